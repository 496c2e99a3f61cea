"""Models run at the size they were trained or exported at, unless --imgsz says otherwise; photos with
more pixels than that run at LARGE_PHOTO, where the model allows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from facemask.model.checkpoints import CheckpointError, load_model
from facemask.model.input_size import LARGE_PHOTO, native_size, resolve

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_INT8 = ROOT / "weights" / "face_masks_int8_openvino_model"


def test_a_checkpoint_runs_at_its_training_size_unless_asked(trained_run: Path) -> None:
    weights = trained_run / "weights" / "best.pt"
    model = load_model(weights)
    trained = model.ckpt["train_args"]["imgsz"]
    assert native_size(model, weights) == (trained, False)
    size = resolve(None, model, weights)
    assert size.imgsz == trained and "trained at" in size.describe(weights)
    assert resolve(320, model, weights).imgsz == 320  # a .pt runs at any size


def test_photos_longer_than_the_large_size_run_at_it(trained_run: Path) -> None:
    weights = trained_run / "weights" / "best.pt"
    model = load_model(weights)
    trained = model.ckpt["train_args"]["imgsz"]  # 64: the tiny model's
    size = resolve(None, model, weights, LARGE_PHOTO)
    assert (size.imgsz, size.large) == (trained, LARGE_PHOTO)
    big = LARGE_PHOTO + 1
    assert size.for_image(480, LARGE_PHOTO) == trained
    assert size.for_image(big, 400) == size.for_image(400, 1600) == LARGE_PHOTO
    assert f"photos over {LARGE_PHOTO} px at {LARGE_PHOTO}" in size.describe(weights)
    asked = resolve(320, model, weights, LARGE_PHOTO)  # --imgsz: every photo at it
    assert asked.large is None and asked.for_image(2000, 3000) == 320
    assert resolve(None, model, weights, trained).large is None  # not above the model's own size: nothing to do
    assert resolve(None, model, weights).for_image(2000, 3000) == trained  # off unless asked


def test_a_fixed_export_refuses_another_size() -> None:
    exported = yaml.safe_load((SHIPPED_INT8 / "metadata.yaml").read_text())["imgsz"][0]
    size, fixed = native_size(object(), SHIPPED_INT8)
    assert fixed and size == exported
    assert resolve(None, object(), SHIPPED_INT8).why == "exported at"
    assert resolve(None, object(), SHIPPED_INT8, LARGE_PHOTO).large is None  # it cannot run at another size
    assert resolve(exported, object(), SHIPPED_INT8).imgsz == exported
    with pytest.raises(CheckpointError, match=f"fixed {exported} px export"):
        resolve(exported + 32, object(), SHIPPED_INT8)


def test_onnx_exports_know_their_size(trained_run: Path, tmp_path: Path) -> None:
    import export

    weights = tmp_path / "m.pt"
    weights.write_bytes((trained_run / "weights" / "best.pt").read_bytes())
    fixed = export.run(weights=weights, include=["onnx"], imgsz=96)["onnx"]
    assert native_size(object(), fixed) == (96, True)
    dynamic = export.run(weights=weights, include=["onnx"], imgsz=96, dynamic=True, exist_ok=True)["onnx"]
    assert native_size(object(), dynamic)[1] is False and resolve(128, object(), dynamic).imgsz == 128
