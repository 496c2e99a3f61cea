"""tools/keep_checkpoint.py: the kept checkpoint is what train.py --resume accepts, with the run's weights,
epoch and arguments, and the optimizer's moments in bfloat16 (half their size), which an optimizer loads
back as float32; or without them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from facemask.model.training import _resumed
from tests.conftest import TinyRun, mid_run
from tests.tools import load_tool


def test_the_kept_checkpoint_resumes_with_its_moments_in_bfloat16(tiny_run: TinyRun, tmp_path: Path) -> None:
    last = mid_run(tiny_run.dir, tmp_path)
    kept = load_tool("keep_checkpoint.py").run(last, tmp_path / "kept.pt")
    original, state = (torch.load(f, map_location="cpu", weights_only=False) for f in (last, kept))
    assert (state["epoch"], state["best_fitness"], state["train_args"]) == (
        original["epoch"],
        original["best_fitness"],
        original["train_args"],
    )
    for a, b in zip(state["ema"].state_dict().values(), original["ema"].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    moments = [v for s in state["optimizer"]["state"].values() for k, v in s.items() if k != "step"]
    assert moments and all(m.dtype == torch.bfloat16 for m in moments)
    params = [p.float().requires_grad_() for p in original["ema"].parameters()]
    optimizer = torch.optim.AdamW(params)
    optimizer.load_state_dict(state["optimizer"])  # as ultralytics' resume does
    for i, loaded in optimizer.state_dict()["state"].items():
        for k in ("exp_avg", "exp_avg_sq"):
            want = original["optimizer"]["state"][i][k]
            assert loaded[k].dtype == torch.float32 and torch.allclose(loaded[k], want, rtol=1e-2, atol=0)
        assert loaded["step"] == original["optimizer"]["state"][i]["step"]
    assert kept.stat().st_size < last.stat().st_size
    _, data, args = _resumed(kept, {"project": str(tmp_path)})
    assert args == {"resume": str(kept)} and data.exists()


def test_without_the_optimizer_on_request(tiny_run: TinyRun, tmp_path: Path) -> None:
    last = mid_run(tiny_run.dir, tmp_path)
    tool = load_tool("keep_checkpoint.py")
    kept = tool.run(**vars(tool.parse_opt([str(last), "--out", str(tmp_path / "kept.pt"), "--no-optimizer"])))
    assert torch.load(kept, map_location="cpu", weights_only=False)["optimizer"] is None
    assert kept.stat().st_size < tool.run(last, tmp_path / "with.pt").stat().st_size


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path: Path) -> None:
    torch.save({"model": None}, tmp_path / "plain.pt")
    with pytest.raises(SystemExit, match="not a training checkpoint"):
        load_tool("keep_checkpoint.py").run(tmp_path / "plain.pt", tmp_path / "out.pt")
