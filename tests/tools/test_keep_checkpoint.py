"""tools/keep_checkpoint.py: the kept checkpoint is what train.py --resume accepts, with the run's weights,
epoch and arguments, and without the optimizer's state that would triple its size in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from facemask.model.training import _resumed
from tests.conftest import TinyRun
from tests.tools import load_tool


def mid_run(last: Path, out: Path) -> Path:
    """The shared run's last.pt as it is between epochs: the EMA model and AdamW's state (a finished run's
    has its model under "model", and no optimizer)."""
    state = torch.load(last, map_location="cpu", weights_only=False)
    state["ema"], state["model"] = state["ema"] or state["model"], None
    state["epoch"] = 0  # the first of its epochs done (a finished run's say -1)
    params = [p.float().requires_grad_() for p in state["ema"].parameters()]
    optimizer = torch.optim.AdamW(params)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    torch.save({**state, "optimizer": optimizer.state_dict()}, out)
    return out


def test_the_kept_checkpoint_resumes_without_the_optimizer(tiny_run: TinyRun, tmp_path: Path) -> None:
    last = mid_run(tiny_run.dir / "weights" / "last.pt", tmp_path / "last.pt")
    kept = load_tool("keep_checkpoint.py").run(last, tmp_path / "kept.pt")
    original, state = (torch.load(f, map_location="cpu", weights_only=False) for f in (last, kept))
    assert state["optimizer"] is None and original["optimizer"] is not None
    assert (state["epoch"], state["best_fitness"], state["train_args"]) == (
        original["epoch"],
        original["best_fitness"],
        original["train_args"],
    )
    for a, b in zip(state["ema"].state_dict().values(), original["ema"].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert kept.stat().st_size < last.stat().st_size
    _, data, args = _resumed(kept, {"project": str(tmp_path)})
    assert args == {"resume": str(kept)} and data.exists()


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path: Path) -> None:
    torch.save({"model": None}, tmp_path / "plain.pt")
    with pytest.raises(SystemExit, match="not a training checkpoint"):
        load_tool("keep_checkpoint.py").run(tmp_path / "plain.pt", tmp_path / "out.pt")
