"""Scores by group of photos (all, crowd, each source): the rows val.py and the model card lead with."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from facemask.model.photo_scores import CROWD, Photo, collect_photos, drop_ignored, groups, score, score_groups
from facemask.model.recall_breakdown import faces_of


def dets(boxes, classes, conf=None) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, float).reshape(-1, 4),
        class_id=np.array(classes, int),
        confidence=None if conf is None else np.array(conf, float),
    )


def crowd_photo(found: int, long_side: int = 1280) -> Photo:
    """Six 20x20 faces (10 px at 640 px on a 1280-px photo); the model finds the first `found` of them."""
    boxes = [[40 * i, 0, 40 * i + 20, 20] for i in range(6)]
    labels = dets(boxes, [1] * 6)
    return Photo("crowd", "a", labels, dets(boxes[:found], [1] * found, [0.9] * found), long_side)


def portrait(source: str = "b") -> Photo:
    box = [[100, 100, 400, 400]]
    return Photo("portrait", source, dets(box, [0]), dets(box, [0], [0.95]), 640)


def test_rows_are_all_then_the_crowd_photos_then_each_source() -> None:
    photos = [crowd_photo(3), portrait("b"), portrait("a")]
    assert {k: len(v) for k, v in groups(photos).items()} == {"all": 3, CROWD: 1, "a": 2, "b": 1}
    rows = score_groups(photos, ["Mask", "No Mask"], recall_conf=0.25)
    assert rows[CROWD]["faces"] == 6 and rows[CROWD]["recall"] == 0.5 and rows[CROWD]["No Mask recall"] == 0.5
    assert rows["b"]["mAP50"] == 1.0 and rows["b"]["No Mask recall"] is None
    assert rows["all"]["faces"] == 8 and rows["all"]["recall"] == 0.625


def test_face_sizes_are_taken_with_the_photo_at_640_px_on_its_long_side() -> None:
    small = faces_of([crowd_photo(6, long_side=1280)], ["Mask", "No Mask"], conf=0.25)
    assert {f.size for f in small} == {10.0}  # 20 px on a 1280-px photo
    row = score([crowd_photo(6, long_side=640)], ["Mask", "No Mask"], recall_conf=0.25)
    assert row["16-32 recall"] == 1.0 and row["<16 recall"] is None


def test_detections_under_the_working_confidence_find_no_face_but_still_count_for_map() -> None:
    photo = portrait()
    weak = Photo(photo.name, photo.source, photo.labels, dets(photo.labels.xyxy, [0], [0.1]), 640)
    row = score([weak], ["Mask", "No Mask"], recall_conf=0.25)
    assert row["recall"] == 0.0 and row["mAP50"] == 1.0


def test_a_detection_on_an_unlabelled_face_given_as_an_ignore_region_is_neither_right_nor_wrong() -> None:
    photo = portrait()
    found = dets([[100, 100, 400, 400], [500, 100, 600, 200]], [0, 0], [0.9, 0.95])  # the second: no label
    scored = Photo(photo.name, photo.source, photo.labels, found, 640)
    assert score([scored], ["Mask", "No Mask"], recall_conf=0.25)["mAP50"] < 1.0
    ignored = drop_ignored(found, np.array([[505.0, 100, 600, 205]]), photo.labels)
    assert len(ignored) == 1 and ignored.confidence.tolist() == [0.9]
    fixed = Photo(photo.name, photo.source, photo.labels, ignored, 640)
    assert score([fixed], ["Mask", "No Mask"], recall_conf=0.25)["mAP50"] == 1.0
    elsewhere = drop_ignored(found, np.array([[0.0, 500, 50, 550]]), photo.labels)  # a region no detection is on
    assert len(elsewhere) == 2


def test_a_detection_between_a_labelled_face_and_an_ignored_one_can_still_find_the_labelled_face() -> None:
    labels = dets([[100, 100, 200, 200]], [0])
    between = dets([[125, 100, 225, 200]], [0], [0.9])  # IoU 0.6 with the label and with the region
    kept = drop_ignored(between, np.array([[150.0, 100, 250, 200]]), labels)
    assert len(kept) == 1
    assert score([Photo("p", "a", labels, kept, 640)], ["Mask", "No Mask"], recall_conf=0.25)["recall"] == 1.0


def test_collect_photos_scales_an_audit_s_fractional_regions_to_each_photo_s_pixels(tmp_path: Path) -> None:
    image = tmp_path / "images" / "test" / "a_x.jpg"
    image.parent.mkdir(parents=True)
    cv2.imwrite(str(image), np.zeros((100, 200, 3), np.uint8))  # 200 x 100
    (tmp_path / "labels" / "test").mkdir(parents=True)
    (tmp_path / "labels" / "test" / "a_x.txt").write_text("0 0.25 0.5 0.2 0.4\n")  # pixels 30,30,70,70

    def detect(bgr: np.ndarray) -> sv.Detections:
        return dets([[30, 30, 70, 70], [121, 30, 160, 70]], [0, 1], [0.9, 0.8])

    regions = {"a_x": np.array([[0.6, 0.3, 0.8, 0.7]])}  # pixels 120,30,160,70: the second detection
    (plain,) = collect_photos([image], detect, ["a"], progress=False)
    (ignored,) = collect_photos([image], detect, ["a"], progress=False, ignore=regions)
    assert len(plain.detections) == 2 and plain.source == "a" and len(plain.labels) == 1
    assert ignored.detections.confidence.tolist() == [0.9]
