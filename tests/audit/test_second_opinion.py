"""facemask/audit/second_opinion.py: which of MTCNN's faces become missing candidates, and with which class,
on hand-made boxes; the real MTCNN (its weights from the facenet-pytorch wheel) on a real photo; and
audit_labels.py --second-opinion mtcnn on that photo left unlabelled, through candidates.csv, the gallery
and a review's reading of the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
import yaml

import audit_labels
from facemask.audit.candidates import AuditError
from facemask.audit.review import read_candidates
from facemask.audit.second_opinion import MTCNN_CONF, MtcnnFaces, face_finder, fallback_class, second_missing
from facemask.paths import EXAMPLES_DIR
from tests.audit.test_audit_labels import dets

ZIDANE_FACES = [[925, 98, 1056, 280], [561, 266, 672, 430]]  # the two people of examples/zidane.jpg


@pytest.fixture
def weights(trained_run: Path) -> Path:
    return trained_run / "weights" / "best.pt"


@pytest.fixture(scope="module")
def mtcnn() -> MtcnnFaces:
    return MtcnnFaces({0: "Mask", 1: "No Mask"}, device="cpu")


def test_only_faces_no_box_covers_become_candidates_with_the_models_class() -> None:
    labels = dets([[0, 0, 10, 10]], [0])
    model_missing = dets([[100, 0, 110, 10]], [0], [0.9])
    detections = dets(
        [[0, 0, 10, 10], [100, 0, 110, 10], [41, 0, 51, 10], [60, 0, 70, 10]], [0, 0, 0, 1], [0.9, 0.9, 0.2, 0.04]
    )
    faces = dets(
        [
            [1, 0, 11, 10],  # a labelled face
            [101, 0, 111, 10],  # the model's own missing candidate
            [40, 0, 50, 10],  # the model sees Mask here, not confidently: Mask
            [60, 0, 70, 10],  # the model's detection is under UNFOUND_CONF: the fallback class
            [80, 0, 90, 10],  # nothing of the model's: the fallback class
            [120, 0, 130, 10],  # MTCNN not sure enough
        ],
        [-1] * 6,
        [0.999, 0.999, 0.99, 0.99, MTCNN_CONF, MTCNN_CONF - 0.01],
    )
    found = second_missing(labels, model_missing, detections, faces, fallback=1)
    assert found.xyxy.tolist() == [[40, 0, 50, 10], [60, 0, 70, 10], [80, 0, 90, 10]]
    assert found.class_id.tolist() == [0, 1, 1]
    assert len(second_missing(labels, model_missing, sv.Detections.empty(), faces[2:3], 1)) == 1
    assert not len(second_missing(labels, model_missing, detections, sv.Detections.empty(), 1))


def test_faces_the_model_never_saw_are_no_mask() -> None:
    assert fallback_class({0: "Mask", 1: "No Mask", 2: "Incorrect"}) == 1
    assert fallback_class({3: "face", 5: "helmet"}) == 3
    assert face_finder(None, {0: "Mask"}) is None
    with pytest.raises(AuditError, match="--second-opinion must be one of mtcnn, not 'haar'"):
        face_finder("haar", {0: "Mask"})


def test_mtcnn_finds_the_faces_of_a_real_photo(mtcnn: MtcnnFaces) -> None:
    import cv2

    image = cv2.imread(str(EXAMPLES_DIR / "zidane.jpg"))
    faces = mtcnn.faces(image)
    sure = faces[faces.confidence >= MTCNN_CONF]
    assert (sv.box_iou_batch(np.array(ZIDANE_FACES, float), sure.xyxy) >= 0.7).any(axis=1).all()
    assert (faces.xyxy >= 0).all() and (faces.xyxy[:, [2, 3]] <= [image.shape[1], image.shape[0]]).all()


def test_audit_takes_mtcnn_faces_the_labels_skip(weights: Path, tmp_path: Path, capsys) -> None:
    root = tmp_path / "ds"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "images" / "train" / "zidane.jpg").symlink_to(EXAMPLES_DIR / "zidane.jpg")
    (root / "labels" / "train" / "zidane.txt").write_text("")  # both faces left unboxed
    (root / "data.yaml").write_text(
        yaml.safe_dump({"path": str(root), "train": "images/train", "names": {0: "Mask", 1: "No Mask"}})
    )
    result = audit_labels.run(
        weights=weights,
        data=root / "data.yaml",
        imgsz=64,
        conf_thres=0.99,
        project=tmp_path / "runs",
        second_opinion="mtcnn",
    )

    mtcnn_found = [c for c in result.candidates if c.source == "mtcnn"]
    assert all(c.kind == "missing" and c.conf >= MTCNN_CONF for c in mtcnn_found)
    boxes = np.array([c.xyxy(1280, 720) for c in mtcnn_found]).reshape(-1, 4)
    assert (sv.box_iou_batch(np.array(ZIDANE_FACES, float), boxes) >= 0.7).any(axis=1).all()
    assert result.summary["second_opinion"] == "mtcnn"
    assert f"{len(mtcnn_found)} of the missing candidates are mtcnn's" in capsys.readouterr().out
    csv_path = result.save_dir / "candidates.csv"
    with csv_path.open(newline="") as f:
        assert next(csv.reader(f)) == ["image", "kind", "cls", "conf", "cx", "cy", "w", "h", "source"]
    read_back = [(c.kind, c.source) for c in read_candidates(csv_path)]  # a review tells who found each
    assert read_back == [(c.kind, c.source) for c in result.candidates]
    assert "<b>missing</b> · mtcnn: " in (result.save_dir / "gallery" / "index.html").read_text()
