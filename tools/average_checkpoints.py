"""Average the weights of several epochs of one training run into one model: a uniform "model soup", the
mean that stochastic weight averaging takes over a run's late epochs. At a low learning rate the late
epochs sit around one minimum, each a step off its centre, and their mean is often nearer it: on the
crowd run, epochs 24, 27 and 30 averaged kept epoch 24's crowd mAP@0.5 and raised its No Mask and
16-32 px recall (MODEL_CARD "Averaging epochs"). Batch-norm statistics are averaged with the weights
(torch's AveragedModel with use_buffers), which holds for epochs this close. A mean written by this
tool counts as the epochs it averages, so a run's epochs can be averaged a session at a time and the
mean kept instead of each epoch. Which epochs to average is chosen on val, never on test.

Usage:
    python tools/average_checkpoints.py runs/epochs/e24.pt runs/epochs/e27.pt runs/epochs/e30.pt --out soup.pt
    python val.py --weights soup.pt --data data/face_masks_crowd.yaml --task val
    python tools/average_checkpoints.py soup.pt runs/epochs/e31.pt --out soup4.pt   # the mean of all 4 epochs
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
from checkpoint_files import load, model_of, refuse_existing, save_whole
from torch.optim.swa_utils import AveragedModel

TOOL = "average_checkpoints.py"


def run(checkpoints: list[str | Path], out: str | Path, exist_ok: bool = False) -> Path:
    """Write the mean of `checkpoints` (ultralytics checkpoints of one architecture) to `out`, a weights
    file that detect.py, val.py and export.py load; returns `out`.

    Args:
        checkpoints: two or more checkpoints (a run's last.pt or best.pt, or tools/keep_checkpoint.py's).
        out: where to write the averaged weights (the last checkpoint's run arguments come with them).
        exist_ok: replace `out` if it exists (it may be a checkpoint: refused otherwise).
    """
    if len(checkpoints) < 2:
        raise SystemExit(f"{TOOL}: give two or more checkpoints to average")
    refuse_existing(Path(out), exist_ok, TOOL)
    states = [load(Path(c), TOOL) for c in checkpoints]
    models = [model_of(s, Path(c), TOOL) for s, c in zip(states, checkpoints, strict=True)]
    averaged = AveragedModel(models[0], use_buffers=True)
    for path, checkpoint, model in zip(checkpoints, states, models, strict=True):
        _same_shapes(models[0], model, Path(path))
        for _ in _members(checkpoint, Path(path)):  # a mean of N epochs counts N times: the mean of all epochs
            averaged.update_parameters(model)
    members = [m for c, s in zip(checkpoints, states, strict=True) for m in _members(s, Path(c))]
    state = {**states[-1], "model": None, "optimizer": None, "ema": averaged.module.half(), "averaged_from": members}
    out = save_whole(state, Path(out))
    print(f"{out}: the mean of {len(members)} checkpoints ({', '.join(members)})")
    return out


def _members(state: dict[str, Any], path: Path) -> list[str]:
    """The epochs a checkpoint stands for: its own, or those it is the mean of."""
    return state.get("averaged_from") or [f"{path.name} (epoch {state.get('epoch', -1) + 1})"]


def _same_shapes(first: torch.nn.Module, other: torch.nn.Module, path: Path) -> None:
    """Refuse a checkpoint of another architecture in one line, not a shape error deep in torch."""
    shapes = [t.shape for t in first.state_dict().values()]
    if shapes != [t.shape for t in other.state_dict().values()]:
        raise SystemExit(f"{TOOL}: {path} is another architecture than the first checkpoint")


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path, help="two or more checkpoints of one run")
    p.add_argument("--out", type=Path, required=True, help="the averaged weights file to write")
    p.add_argument("--exist-ok", action="store_true", help="replace --out if it exists")
    return p.parse_args(argv)


if __name__ == "__main__":
    run(**vars(parse_opt()))
