"""Keep a training run's resume checkpoint in the repository, so that a long CPU run (hours, over several
days) goes on from another machine or a fresh clone: runs/ is not committed, so without this it would
start again from the backbone. The optimizer's state (AdamW's two moments: 21 of last.pt's 27 MB for YOLOv5n) is
left out, so the kept file is the 5.5 MB EMA model plus the epoch, the best fitness and the run's
arguments; a resumed run starts its moments afresh (ultralytics resumes without them) and they rebuild
within the first hundred steps.

Usage:
    python tools/keep_checkpoint.py runs/train/cpu_v5n_512_crowd/weights/last.pt
    python train.py --resume weights/checkpoints/cpu_v5n_512_crowd_last.pt --wandb offline   # a later session
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "weights" / "checkpoints"


def run(checkpoint: str | Path, out: str | Path | None = None) -> Path:
    """Write `checkpoint` (an ultralytics last.pt) without its optimizer state; returns the file written.

    Args:
        checkpoint: the run's weights/last.pt.
        out: where to write it; default weights/checkpoints/<run name>_last.pt.
    """
    checkpoint = Path(checkpoint)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if "train_args" not in state:
        raise SystemExit(f"keep_checkpoint.py: {checkpoint} is not a training checkpoint (no train_args)")
    state["optimizer"] = None
    out = Path(out) if out else KEPT / f"{Path(state['train_args']['save_dir']).name}_last.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.tmp")
    torch.save(state, partial)
    os.replace(partial, out)  # whole or not at all
    epoch = state["epoch"] + 1
    print(f"{out}: epoch {epoch} of {state['train_args']['epochs']}, {out.stat().st_size / 1e6:.1f} MB")
    return out


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="the run's weights/last.pt")
    p.add_argument("--out", type=Path, help="default: weights/checkpoints/<run name>_last.pt")
    return p.parse_args(argv)


if __name__ == "__main__":
    run(**vars(parse_opt()))
