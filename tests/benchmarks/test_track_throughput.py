"""benchmarks/track_throughput.py, and through it benchmarks/clips.py (photo_clip)."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks import track_throughput
from facemask.paths import EXAMPLES_DIR


def test_a_one_second_clip_gives_frames_per_second_with_and_without_tracking(weights: Path, capsys) -> None:
    opt = track_throughput.parse_opt(
        ["--seconds", "1", "--imgsz", "64", "--weights", str(weights), "--photos", str(EXAMPLES_DIR)]
    )
    result = track_throughput.run(**vars(opt))
    assert result["frames"] == 25  # 1 s at 25 fps
    assert result["plain_fps"] > 0 and result["tracked_fps"] > 0
    out = capsys.readouterr().out
    assert re.search(r"^detection +\d+\.\d frames/s", out, re.M), out
    assert re.search(r"^detection \+ --track +\d+\.\d frames/s  \(\d+% of plain\)", out, re.M), out
    assert "were temporary and are deleted: --project DIR keeps them" in out  # not a folder that is gone


def test_project_keeps_the_runs_outputs(weights: Path, tmp_path: Path, capsys) -> None:
    opt = track_throughput.parse_opt(
        ["--seconds", "1", "--imgsz", "64", "--weights", str(weights), "--project", str(tmp_path / "runs")]
    )
    track_throughput.run(**vars(opt))
    assert (tmp_path / "runs" / "track" / "exp" / "summary.json").is_file()
    assert "temporary" not in capsys.readouterr().out
