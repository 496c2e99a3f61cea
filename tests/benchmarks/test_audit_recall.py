from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from benchmarks import audit_recall


def test_deleted_boxes_are_counted_and_scored(weights: Path, tiny_data: Path, capsys) -> None:
    flags = shlex.split("--split test --delete 0.5 --conf-thres 0.1")
    opt = audit_recall.parse_opt([*flags, "--weights", str(weights), "--data", str(tiny_data)])
    r = audit_recall.run(**vars(opt))
    labels = Path(yaml.safe_load(tiny_data.read_text())["path"]) / "labels" / "test"
    boxes = sum(1 for f in labels.glob("*.txt") for line in f.read_text().splitlines() if line.strip())
    assert r["deleted"] == round(0.5 * boxes) > 0
    assert 0 <= r["recovered"] <= r["deleted"] and 0 <= r["recall"] <= 1 and 0 <= r["precision"] <= 1
    assert r["candidates_per_deleted"] == r["missing_candidates"] / r["deleted"]
    out = capsys.readouterr().out
    assert f"deleted boxes: {r['deleted']}" in out
    assert re.search(r"^recovered by a missing candidate \(IoU >= 0.5\): \d+ \(\d+\.\d%\)$", out, re.M), out
    assert re.search(r"^goal \(.*\): (met|NOT met)$", out, re.M), out
