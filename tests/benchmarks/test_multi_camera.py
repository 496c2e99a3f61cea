"""benchmarks/multi_camera.py, and through it its helpers benchmarks/camera_timing.py (the timed console,
measure and table), benchmarks/mjpeg_cameras.py (the live view's IP cameras) and benchmarks/clips.py
(camera_clips)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from benchmarks import multi_camera
from facemask.paths import EXAMPLES_DIR


def test_one_camera_as_a_file_and_live_gets_a_row_each(weights: Path, capsys) -> None:
    flags = shlex.split("--sources 1 --repeat 1 --seconds 1 --fps 5 --live-seconds 0.5")
    opt = multi_camera.parse_opt([*flags, "--weights", str(weights), "--photos", str(EXAMPLES_DIR)])
    runs = multi_camera.run(**vars(opt))
    assert [[(r.view, r.sources, r.model) for r in rows] for rows in runs] == [
        [("files", 1, "best.pt")],
        [("live", 1, "best.pt")],
    ]
    files, live = runs[0][0], runs[1][0]
    assert sum(files.frames.values()) == 5 - 1  # every frame of the 1 s clip after the first (the clock's start)
    assert files.dropped is None and files.total_fps > 0 and files.detector_ms > 0
    assert sum(live.frames.values()) > 0 and live.sent > 0 and 0 <= live.dropped <= 1
    out = capsys.readouterr().out
    assert re.search(r"^run 1/1 files 1 x best\.pt: [\d.]+ fps/camera", out, re.M), out
    rows = re.findall(
        r"^\| 1 \| best\.pt \| (files|live) \| [\d.]+ \| [\d.]+-[\d.]+ \| [\d.]+ \| \d+ \| \d+ \|", out, re.M
    )
    assert rows == ["files", "live"], out
