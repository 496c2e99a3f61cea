"""benchmarks/track_memory.py, and through it benchmarks/clips.py (long_clip)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from benchmarks import track_memory
from facemask.paths import EXAMPLES_DIR


def test_a_three_second_stream_is_sampled_every_second(weights: Path, capsys) -> None:
    flags = shlex.split("--minutes 0.05 --fps 5 --imgsz 64 --photo-seconds 1 --sample-seconds 1 --baseline-seconds 1")
    opt = track_memory.parse_opt([*flags, "--weights", str(weights), "--photos", str(EXAMPLES_DIR)])
    result = track_memory.run(**vars(opt))
    samples = result["samples"]
    assert [s.stream_s for s in samples] == [1, 2, 3]
    assert all(s.rss_mb > 0 and s.frame_ms > 0 and s.counter_ms >= 0 and s.held >= 0 for s in samples)
    assert result["baseline"] is samples[0] and result["last"] is samples[-1]
    assert result["grew_mb"] == samples[-1].rss_mb - samples[0].rss_mb
    out = capsys.readouterr().out
    lines = re.findall(r" 0:0([123]) +[\d.]+ +[\d.]+ +[\d.]+ +\d+ +\d+$", out, re.M)  # after the bar's last draw
    assert lines == ["1", "2", "3"], out
    assert re.search(r"^RSS at 0:01 [\d.]+ MB, at 0:03 [\d.]+ MB: [+-][\d.]+ MB \((within|over) the 30 MB", out, re.M)
