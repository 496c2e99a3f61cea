"""Keep a training run's resume checkpoint in the repository, so that a long CPU run (hours, over several
days) goes on from another machine or a fresh clone: runs/ is not committed, so without this it would
start again from the backbone. The optimizer's state (AdamW's two moments: 21 of last.pt's 27 MB for
YOLOv5n, in float32) is kept in bfloat16, half the size: float16 would round the smallest second moments
to 0 and blow up their steps, bfloat16 has float32's range. torch casts the moments back to float32 when
ultralytics loads them. Without them (--no-optimizer: 5.5 MB) a resumed run starts its moments afresh, and
on the crowd run that knocked val mAP@0.5 from 0.775 to 0.618 in the epoch after the resume.

Usage:
    python tools/keep_checkpoint.py runs/train/cpu_v5n_512_crowd/weights/last.pt
    python train.py --resume weights/checkpoints/cpu_v5n_512_crowd_last.pt --wandb offline   # a later session
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from checkpoint_files import save_whole

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "weights" / "checkpoints"


def run(checkpoint: str | Path, out: str | Path | None = None, optimizer: bool = True) -> Path:
    """Write `checkpoint` (an ultralytics last.pt) with its optimizer state in bfloat16, or without it;
    returns the file written.

    Args:
        checkpoint: the run's weights/last.pt.
        out: where to write it; default weights/checkpoints/<run name>_last.pt.
        optimizer: keep the optimizer's state (in bfloat16); False leaves it out.
    """
    checkpoint = Path(checkpoint)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if "train_args" not in state:
        raise SystemExit(f"keep_checkpoint.py: {checkpoint} is not a training checkpoint (no train_args)")
    state["optimizer"] = _bfloat16(state["optimizer"]) if optimizer and state.get("optimizer") else None
    out = Path(out) if out else KEPT / f"{Path(state['train_args']['save_dir']).name}_last.pt"
    save_whole(state, out)  # replaces the kept checkpoint of an earlier session: that is its job
    epoch = state["epoch"] + 1
    print(f"{out}: epoch {epoch} of {state['train_args']['epochs']}, {out.stat().st_size / 1e6:.1f} MB")
    return out


def _bfloat16(optimizer_state: dict[str, Any]) -> dict[str, Any]:
    """The optimizer's state dict with its float tensors (the moments) in bfloat16; steps stay as they are."""
    return {
        **optimizer_state,
        "state": {
            i: {
                k: v.bfloat16() if torch.is_tensor(v) and v.is_floating_point() and k != "step" else v
                for k, v in param_state.items()
            }
            for i, param_state in optimizer_state["state"].items()
        },
    }


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="the run's weights/last.pt")
    p.add_argument("--out", type=Path, help="default: weights/checkpoints/<run name>_last.pt")
    p.add_argument(
        "--no-optimizer", dest="optimizer", action="store_false", help="leave the optimizer's state out (5.5 MB)"
    )
    return p.parse_args(argv)


if __name__ == "__main__":
    run(**vars(parse_opt()))
