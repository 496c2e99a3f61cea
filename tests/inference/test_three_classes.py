"""The shipped three-class model (Mask, No Mask, Incorrect) through every front end: detect.py counts
its third class, draws it in its own colour, the app offers it, and its ONNX export keeps the names."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import supervision as sv

import detect
from facemask.app import service
from facemask.classes import INCORRECT
from facemask.inference.annotate import CLASS_COLOURS, Annotator, palette
from facemask.inference.detector import Detector
from facemask.paths import EXAMPLES_DIR, WEIGHTS_DIR

THREE = WEIGHTS_DIR / "face_masks_3class.pt"
NAMES = {0: "Mask", 1: "No Mask", 2: "Incorrect"}


def test_detect_counts_the_third_class(tmp_path: Path) -> None:
    summary = detect.run(weights=THREE, source=EXAMPLES_DIR, project=tmp_path, nosave=True)
    assert set(summary.faces) == set(NAMES.values())  # every class listed, zeros included
    assert summary.images == 2 and sum(summary.faces.values()) >= 2  # bus.jpg's two faces at least


def test_incorrect_is_drawn_in_its_own_colour() -> None:
    assert palette(NAMES).by_idx(2) == CLASS_COLOURS[INCORRECT] != palette(NAMES).by_idx(1)
    image = np.zeros((100, 100, 3), np.uint8)
    found = sv.Detections(xyxy=np.array([[10.0, 10, 60, 60]]), class_id=np.array([2]), confidence=np.array([0.9]))
    drawn = Annotator(NAMES, hide_labels=True)(image, found)
    assert tuple(drawn[10, 30]) == CLASS_COLOURS[INCORRECT].as_bgr()


def test_the_app_offers_it_and_counts_its_classes() -> None:
    assert THREE.name in service.available_models()
    rgb = np.asarray(service.read_upload(str(EXAMPLES_DIR / "bus.jpg")))
    _, counts, _ = service.detect_rgb(rgb, THREE.name, 0.25, 0.45, False)
    assert {"Mask", "No Mask", "Incorrect"} <= set(counts) and counts["faces"] >= 2


def test_its_onnx_export_keeps_the_three_names(tmp_path: Path) -> None:
    import export

    weights = tmp_path / THREE.name
    shutil.copy(THREE, weights)  # the export lands beside the weights: not in the project's weights/
    out = export.run(weights=weights, include=["onnx"])
    assert Detector(out["onnx"]).names == NAMES
