from __future__ import annotations

import re
from pathlib import Path

from benchmarks import small_faces
from facemask.model.recall_breakdown import SIZE_NAMES


def test_every_mode_gets_recall_by_size_time_and_unmatched(weights: Path, tiny_data: Path, capsys) -> None:
    opt = small_faces.parse_opt(["--weights", str(weights), "--data", str(tiny_data), "--split", "test"])
    results = small_faces.run(**vars(opt))
    assert [r["mode"] for r in results] == list(small_faces.MODES)
    assert [r["imgsz"] for r in results] == [64, 640, 64, 64]  # the model's own size, or 640
    for r in results:
        assert r["all"]["faces"] > 0 and 0 <= r["all"]["recall"] <= 1
        assert set(r["by_size"]) <= set(SIZE_NAMES) and r["ms"] > 0 and r["extra_per_image"] >= 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (plain|plain 640|tile|augment) \| \d+ \|.*\| [\d.]+ \| \d+ \|$", out, re.M)
    assert rows == list(small_faces.MODES), out
    assert re.search(r"^faces per size: ", out, re.M)
