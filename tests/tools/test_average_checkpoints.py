"""tools/average_checkpoints.py: the averaged weights are the mean of the checkpoints' weights and
batch-norm statistics, load where any weights file does, a mean counts as the epochs it averages, and a
wrong input is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import TinyRun
from tests.tools import load_tool


def _shifted(run_dir: Path, folder: Path, name: str, shift: float, epoch: int) -> Path:
    """A copy of the shared run's last.pt with every float weight and statistic moved by `shift`."""
    state = torch.load(run_dir / "weights" / "last.pt", map_location="cpu", weights_only=False)
    model = (state["ema"] or state["model"]).float()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(shift)
    state["ema"], state["model"], state["epoch"] = model.half(), None, epoch
    torch.save(state, folder / name)
    return folder / name


def test_the_average_is_the_mean_and_loads_as_weights(tiny_run: TinyRun, tmp_path: Path) -> None:
    from ultralytics import YOLO

    a, b = (_shifted(tiny_run.dir, tmp_path, f"{n}.pt", s, e) for n, s, e in (("a", 0.0, 3), ("b", 0.25, 5)))
    tool = load_tool("average_checkpoints.py")
    out = tool.run(**vars(tool.parse_opt([str(a), str(b), "--out", str(tmp_path / "soup.pt")])))
    state = torch.load(out, map_location="cpu", weights_only=False)
    assert state["optimizer"] is None and state["averaged_from"] == ["a.pt (epoch 4)", "b.pt (epoch 6)"]
    loaded = [torch.load(p, map_location="cpu", weights_only=False)["ema"].float().state_dict() for p in (a, b)]
    for key, value in state["ema"].float().state_dict().items():
        if value.is_floating_point():
            want = (loaded[0][key] + loaded[1][key]) / 2
            assert torch.allclose(value, want, atol=2e-3), key  # stored in half precision, as ultralytics does
    assert any("running_mean" in k for k in state["ema"].state_dict())  # batch-norm statistics averaged too
    result = YOLO(str(out))(torch.zeros(1, 3, 64, 64), verbose=False)[0]
    assert result.boxes is not None


def _floats(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=False)["ema"].float().state_dict()
    return {k: v for k, v in state.items() if v.is_floating_point()}


def test_a_mean_counts_as_the_epochs_it_averages(tiny_run: TinyRun, tmp_path: Path) -> None:
    a, b, c = (
        _shifted(tiny_run.dir, tmp_path, f"{n}.pt", s, e) for n, s, e in (("a", 0, 1), ("b", 0.3, 2), ("c", 0.9, 3))
    )
    tool = load_tool("average_checkpoints.py")
    in_two_steps = tool.run([tool.run([a, b], tmp_path / "ab.pt"), c], tmp_path / "abc.pt")
    at_once = tool.run([a, b, c], tmp_path / "at_once.pt")
    steps, once = _floats(in_two_steps), _floats(at_once)
    assert all(torch.allclose(steps[k], once[k], rtol=2e-3, atol=2e-3) for k in once)  # half precision's steps
    assert torch.load(in_two_steps, weights_only=False)["averaged_from"] == [
        "a.pt (epoch 2)",
        "b.pt (epoch 3)",
        "c.pt (epoch 4)",
    ]


def test_wrong_inputs_are_refused_in_one_line(tiny_run: TinyRun, tmp_path: Path) -> None:
    tool = load_tool("average_checkpoints.py")
    a = _shifted(tiny_run.dir, tmp_path, "a.pt", 0.0, 1)
    with pytest.raises(SystemExit, match="two or more"):
        tool.run([a], tmp_path / "out.pt")
    with pytest.raises(SystemExit, match="no such file"):
        tool.run([a, tmp_path / "missing.pt"], tmp_path / "out.pt")
    torch.save({"epoch": 1}, tmp_path / "plain.pt")
    with pytest.raises(SystemExit, match="not an ultralytics checkpoint"):
        tool.run([a, tmp_path / "plain.pt"], tmp_path / "out.pt")
    other = torch.load(a, map_location="cpu", weights_only=False)
    other["ema"] = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1))
    torch.save(other, tmp_path / "other.pt")
    with pytest.raises(SystemExit, match="another architecture"):
        tool.run([a, tmp_path / "other.pt"], tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()
    with pytest.raises(SystemExit, match=r"a\.pt exists; --exist-ok replaces it"):
        tool.run([a, a], a)  # a checkpoint is never averaged over without asking
