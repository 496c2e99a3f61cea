"""What the checkpoint tools (average_checkpoints.py, add_p2_level.py, keep_checkpoint.py) share: reading an
ultralytics checkpoint and its model, and writing one whole or not at all. Not facemask.model.checkpoints:
a tool runs with torch (and ultralytics) alone, from a fresh clone without the package installed. Each
message starts with the tool's name, as a script's one-line error does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def load(path: Path, tool: str) -> dict[str, Any]:
    """The checkpoint at `path`; a missing file is refused in one line."""
    if not Path(path).is_file():
        raise SystemExit(f"{tool}: {path}: no such file")
    return torch.load(path, map_location="cpu", weights_only=False)


def model_of(state: dict[str, Any], path: Path, tool: str) -> torch.nn.Module:
    """The checkpoint's model in float32: the EMA between epochs, the model itself once a run has ended."""
    model = (state.get("ema") or state.get("model")) if isinstance(state, dict) else None
    if not isinstance(model, torch.nn.Module):
        raise SystemExit(f"{tool}: {path} is not an ultralytics checkpoint (no model in it)")
    return model.float().eval()


def refuse_existing(out: Path, exist_ok: bool, tool: str) -> None:
    """A file at `out` may be a checkpoint: it is replaced only when asked."""
    if Path(out).exists() and not exist_ok:
        raise SystemExit(f"{tool}: {out} exists; --exist-ok replaces it")


def save_whole(state: dict[str, Any], out: Path) -> Path:
    """`state` written to `out` through a temporary file renamed over it: a kill leaves the old file or the new."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.tmp")
    torch.save(state, partial)
    os.replace(partial, out)
    return out
