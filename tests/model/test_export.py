"""export.py: each CPU format exports, and detect.py and val.py load the export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import detect
import export
import val


@pytest.fixture(scope="module")
def exported(trained_run: Path, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export")
    weights = folder / "tiny.pt"
    shutil.copy(trained_run / "weights" / "best.pt", weights)
    return export.run(weights=weights, include=["onnx", "openvino", "torchscript"], imgsz=64)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["onnx", "openvino", "torchscript"])
def test_export_loads_in_detect_and_val(exported, fmt, tiny_data: Path, tmp_path: Path) -> None:
    model = exported[fmt]
    assert model.exists()
    images = tiny_data.parent / "ds" / "images" / "val"
    summary = detect.run(weights=model, source=images, imgsz=64, project=tmp_path, save_json=True)
    assert summary.images == len(list(images.iterdir())) and not summary.skipped
    result = val.run(weights=model, data=tiny_data, imgsz=64, batch=1, project=tmp_path, name="v")
    assert set(result["all"]) >= {"mAP50", "mAP50-95", "precision", "recall"}


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown format 'onx'"):
        export.run(weights="whatever.pt", include=["onx"])
