"""tools/add_p2_level.py: a trained YOLOv5n with a P2 level keeps everything it learnt (layers 0-23 and its
head's three levels, moved up one), detects at strides 4-32 where any weights file loads, and a file that
is not a three-level YOLOv5 checkpoint is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import TinyRun
from tests.tools import ROOT, load_tool


def _model(path: Path) -> torch.nn.Module:
    state = torch.load(path, map_location="cpu", weights_only=False)
    return (state["ema"] or state["model"]).float()


def test_the_model_keeps_its_layers_and_head_and_gains_a_stride_4_level(tiny_run: TinyRun, tmp_path: Path) -> None:
    from ultralytics import YOLO

    tool = load_tool("add_p2_level.py")
    source = tiny_run.dir / "weights" / "last.pt"
    out = tool.run(**vars(tool.parse_opt([str(source), "--out", str(tmp_path / "p2.pt")])))
    old, new = _model(source).state_dict(), _model(out).state_dict()
    for key, value in old.items():
        if key.startswith("model.24."):  # the head: level i is now level i + 1
            for branch in ("cv2", "cv3"):
                for level in range(3):
                    key = key.replace(f"model.24.{branch}.{level}.", f"model.28.{branch}.{level + 1}.")
            key = key.replace("model.24.dfl.", "model.28.dfl.")
        assert torch.allclose(new[key], value, atol=1e-3), key  # stored in half precision
    model = YOLO(str(out))
    assert model.model.model[-1].stride.tolist() == [4.0, 8.0, 16.0, 32.0]
    assert model.names == _model(source).names
    assert model(torch.zeros(1, 3, 64, 64), verbose=False)[0].boxes is not None


def test_a_three_class_model_keeps_its_three_classes(tmp_path: Path) -> None:
    from ultralytics import YOLO

    tool = load_tool("add_p2_level.py")
    out = tool.run(ROOT / "weights" / "face_masks_3class.pt", tmp_path / "p2.pt")
    model = YOLO(str(out))
    assert model.names == {0: "Mask", 1: "No Mask", 2: "Incorrect"}
    assert model(torch.zeros(1, 3, 64, 64), verbose=False)[0].boxes is not None  # its head is 3 classes wide


def test_a_model_with_four_levels_already_or_an_existing_out_is_refused(tiny_run: TinyRun, tmp_path: Path) -> None:
    tool = load_tool("add_p2_level.py")
    once = tool.run(tiny_run.dir / "weights" / "last.pt", tmp_path / "p2.pt")
    with pytest.raises(SystemExit, match="not a three-level YOLOv5 checkpoint"):
        tool.run(once, tmp_path / "p2_again.pt")
    before = once.read_bytes()
    with pytest.raises(SystemExit, match=r"p2\.pt exists; --exist-ok replaces it"):
        tool.run(tiny_run.dir / "weights" / "last.pt", once)
    assert once.read_bytes() == before
