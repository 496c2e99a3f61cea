"""Recall by face size, class and source: the matching rules and the summary val.py reports."""

from __future__ import annotations

import json

import numpy as np
import supervision as sv

from facemask.model.recall_breakdown import Face, found_faces, save, size_bin, summarise


def dets(boxes, classes, conf=None) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, float).reshape(-1, 4),
        class_id=np.array(classes, int),
        confidence=None if conf is None else np.array(conf, float),
    )


def test_a_face_is_found_only_by_a_detection_of_its_class_and_each_detection_finds_one() -> None:
    labels = dets([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [41, 1, 51, 11]], [0, 1, 0, 0])
    found = found_faces(
        labels,
        dets([[0, 0, 10, 11], [20, 0, 30, 10], [40, 0, 50, 10]], [0, 0, 0], conf=[0.9, 0.8, 0.7]),
    )
    # face 1 is No Mask but detected as Mask: missed; faces 2 and 3 overlap one detection: one found.
    assert found.tolist() == [True, False, True, False]
    assert not found_faces(labels, sv.Detections.empty()).any()


def test_size_bins() -> None:
    assert [size_bin(s) for s in (5, 16, 31.9, 32, 100, 500)] == ["<16", "16-32", "16-32", "32-64", "64-128", ">=128"]


def test_summary_by_size_class_and_source(tmp_path) -> None:
    faces = [
        Face("a", "Mask", 10, False),
        Face("a", "Mask", 20, True),
        Face("b", "No Mask", 20, True),
        Face("b", "No Mask", 70, False),
    ]
    result = summarise(faces)
    assert result["all"] == {"faces": 4, "found": 2, "recall": 0.5}
    assert list(result["by_size"]) == ["<16", "16-32", "64-128"]
    assert result["by_size"]["16-32"]["recall"] == 1.0
    assert result["by_class"]["No Mask"] == {"faces": 2, "found": 1, "recall": 0.5}
    assert result["by_source"]["a"]["recall"] == 0.5
    assert result["by_class_and_size"]["Mask"]["<16"]["recall"] == 0.0
    json_path, png_path = save(result, tmp_path)
    assert json.loads(json_path.read_text())["all"]["faces"] == 4 and png_path.stat().st_size > 10_000
