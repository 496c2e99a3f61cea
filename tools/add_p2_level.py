"""Give a trained YOLOv5 checkpoint a fourth, stride-4 (P2) detection level (configs/yolov5-p2.yaml), keeping
everything it has learnt: its layers 0-23 by name, its head's P3-P5 levels as the new model's levels 1-3.
The P2 branch of the neck starts fresh and the P2 level of the head as a copy of the P3 level (its first
convolution fresh, as its input is narrower), so the new model finds at first what the old one found, and
fine-tuning (benchmarks/crowd_screen.py --weights, train.py --weights) teaches the new level the faces
under 16 px that a stride-8 grid at 512 px barely sees.

Why by hand: ultralytics transfers weights by name and shape, and both change in the head (its levels
shift by one and the classification branch is as wide as the classes of the model it was built for: 80
in a COCO-started checkpoint), so `--cfg configs/yolov5n-p2.yaml --weights W` would start the whole head
afresh.

Usage:
    python tools/add_p2_level.py weights/checkpoints/cpu_v5n_512_crowd_e38.pt --out runs/p2/e38_p2.pt
    python -m benchmarks.crowd_screen --name e38_p2 --weights runs/p2/e38_p2.pt --base datasets/face_masks_crowd_add
"""

from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path
from typing import Any

import torch
from checkpoint_files import load, model_of, refuse_existing, save_whole
from torch import nn

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "yolov5-p2.yaml"
TOOL = "add_p2_level.py"
OLD_HEAD = 24  # the Detect layer of yolov5.yaml (configs/yolov5-p2.yaml appends 4 layers before its own)


def run(weights: str | Path, out: str | Path, exist_ok: bool = False) -> Path:
    """Write `weights` with a P2 level to `out`, a checkpoint that train.py, val.py and detect.py load.

    Args:
        weights: an ultralytics checkpoint of yolov5.yaml at scale n or s (a run's last.pt, best.pt, or a kept epoch).
        out: where to write the four-level checkpoint.
        exist_ok: replace `out` if it exists (refused otherwise).
    """
    from ultralytics.nn.tasks import DetectionModel

    refuse_existing(Path(out), exist_ok, TOOL)
    state = load(Path(weights), TOOL)
    old = model_of(state, Path(weights), TOOL)
    if len(old.model) != OLD_HEAD + 1:
        raise SystemExit(f"{TOOL}: {weights} is not a three-level YOLOv5 checkpoint")
    scale = old.yaml.get("scale", "n")
    new = DetectionModel(str(CONFIG.with_name(f"yolov5{scale}-p2.yaml")), nc=len(old.names), verbose=False)
    new.load_state_dict({**new.state_dict(), **_by_name(old.state_dict(), new.state_dict())})
    _move_head(old.model[-1], new.model[-1])
    new.names, new.args = old.names, dict(getattr(old, "args", {}) or {})
    out = save_whole({**state, "epoch": -1, "model": None, "optimizer": None, "ema": copy.deepcopy(new).half()}, out)
    print(f"{out}: {weights} with a P2 level (strides {', '.join(f'{s:g}' for s in new.model[-1].stride)})")
    return out


def _by_name(old: dict[str, torch.Tensor], new: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The old tensors of layers 0-23, which configs/yolov5-p2.yaml keeps as they are."""
    head = re.compile(rf"model\.{OLD_HEAD}\.")
    return {k: v for k, v in old.items() if not head.match(k) and k in new and new[k].shape == v.shape}


def _move_head(old: nn.Module, new: nn.Module) -> None:
    """The old head's levels into the new head's levels 1-3; level 0 (P2) a copy of the P3 level whose first
    convolution takes the P2 branch's narrower input afresh."""
    for branch in ("cv2", "cv3"):
        levels = getattr(old, branch)
        p2 = copy.deepcopy(levels[0])
        first = p2[0].conv
        width = new.cv2[0][0].conv.in_channels  # the P2 branch's width, the input of both branches
        p2[0].conv = nn.Conv2d(width, first.out_channels, first.kernel_size, first.stride, first.padding, bias=False)
        setattr(new, branch, nn.ModuleList([p2, *copy.deepcopy(list(levels))]))
    new.dfl.load_state_dict(old.dfl.state_dict())


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", type=Path, help="a three-level YOLOv5 checkpoint")
    p.add_argument("--out", type=Path, required=True, help="where to write the checkpoint with a P2 level")
    p.add_argument("--exist-ok", action="store_true", help="replace --out if it exists")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> Any:
    return run(**vars(opt))


if __name__ == "__main__":
    main(parse_opt())
