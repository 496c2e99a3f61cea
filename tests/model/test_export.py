"""export.py: each CPU format exports, and detect.py and val.py load the export; an int8 OpenVINO export,
calibrated on the tiny dataset, runs at its export size and finds faces."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import detect
import export
import val
from facemask.model.input_size import native_size
from facemask.owned_dirs import OutputDirError


@pytest.fixture(scope="module")
def exported(trained_run: Path, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export")
    weights = folder / "tiny.pt"
    shutil.copy(trained_run / "weights" / "best.pt", weights)
    return export.run(weights=weights, include=["onnx", "openvino", "torchscript"], imgsz=64)


@pytest.mark.parametrize("fmt", ["onnx", "openvino", "torchscript"])
def test_export_loads_in_detect_and_val(exported, fmt, tiny_data: Path, tmp_path: Path) -> None:
    model = exported[fmt]
    assert model.exists()
    images = tiny_data.parent / "ds" / "images" / "val"
    summary = detect.run(weights=model, source=images, imgsz=64, project=tmp_path, save_json=True)
    assert summary.images == len(list(images.iterdir())) and not summary.skipped
    result = val.run(weights=model, data=tiny_data, imgsz=64, batch=1, project=tmp_path, name="v", plots=False)
    assert set(result["all"]) >= {"mAP50", "mAP50-95", "precision", "recall"}
    assert not list(Path(result["save_dir"]).glob("*.png"))  # plots=False: the figures only


@pytest.mark.parametrize("fmt", ["onnx", "openvino"])
def test_an_export_is_loaded_once(exported, fmt, monkeypatch) -> None:
    """Its names, plain passes and tiles share one loaded model: ultralytics' `names` alone loads it twice,
    and a pass that asks for another device (sahi's) loads it again."""
    import numpy as np
    from ultralytics.nn.autobackend import AutoBackend

    from facemask.inference.detector import Detector, DetectorSettings

    loads, load = [], AutoBackend.__init__
    monkeypatch.setattr(AutoBackend, "__init__", lambda self, *a, **k: loads.append(1) or load(self, *a, **k))
    detector = Detector(exported[fmt], DetectorSettings(imgsz=64))
    assert detector.names == {0: "Mask", 1: "No Mask"}
    tiles = replace(detector.settings.options(), tile=True)
    for options in (None, tiles, None):  # the app switches tiles on and off
        detector(np.zeros((96, 160, 3), np.uint8), options)
    assert len(loads) == 1


def test_int8_openvino_export_is_quantised_and_finds_faces(trained_run: Path, tiny_data: Path, tmp_path: Path) -> None:
    weights = tmp_path / "tiny.pt"
    shutil.copy(trained_run / "weights" / "best.pt", weights)
    model = export.run(weights=weights, include=["openvino"], int8=True, data=tiny_data, fraction=0.5, imgsz=64)
    folder = model["openvino"]
    meta = yaml.safe_load((folder / "metadata.yaml").read_text())
    assert meta["imgsz"] == [64, 64] and meta["args"]["quantize"] == 8 and meta["args"]["fraction"] == 0.5
    assert 'element_type="i8"' in next(folder.glob("*.xml")).read_text()  # int8 weights, not a float model
    assert native_size(object(), folder) == (64, True)
    images = tiny_data.parent / "ds" / "images" / "val"
    # The two-epoch model is unsure of everything (its float self finds nothing at 0.01 either): a low
    # threshold shows the quantised graph still gives boxes through detect.py's whole path.
    summary = detect.run(weights=folder, source=images, conf_thres=0.001, project=tmp_path, nosave=True)
    assert summary.images == len(list(images.iterdir())) and not summary.skipped
    assert sum(summary.faces.values()) > 0


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'onx'"):
        export.run(weights="whatever.pt", include=["onx"])


def test_an_export_already_there_is_replaced_only_when_asked(trained_run: Path, tmp_path: Path) -> None:
    """The shipped int8 model sits beside weights/face_masks.pt: a second export must not silently replace it."""
    weights = tmp_path / "tiny.pt"
    shutil.copy(trained_run / "weights" / "best.pt", weights)
    kept = tmp_path / "tiny_int8_openvino_model"
    kept.mkdir()
    (kept / "tiny.xml").write_text("the shipped int8 model")
    first = export.run(weights=weights, include=["onnx", "torchscript"], imgsz=64)["onnx"]
    before = first.stat().st_mtime_ns
    with pytest.raises(OutputDirError, match=r"tiny\.onnx already exists; pass --exist-ok"):
        export.run(weights=weights, include=["onnx"], imgsz=64)
    with pytest.raises(OutputDirError, match="tiny_int8_openvino_model already exists"):
        export.run(weights=weights, include=["openvino"], int8=True, imgsz=64)
    assert first.stat().st_mtime_ns == before and (kept / "tiny.xml").read_text() == "the shipped int8 model"
    again = export.run(weights=weights, include=["onnx"], imgsz=64, exist_ok=True)["onnx"]
    assert again == first and first.stat().st_mtime_ns > before


def test_export_targets_follow_ultralytics_names() -> None:
    w = Path("weights/face_masks.pt")
    assert export.export_target(w, "onnx", False) == Path("weights/face_masks.onnx")
    assert export.export_target(w, "openvino", False) == Path("weights/face_masks_openvino_model")
    assert export.export_target(w, "openvino", True) == Path("weights/face_masks_int8_openvino_model")
    assert export.export_target(w, "tflite", True) == Path("weights/face_masks_saved_model")
