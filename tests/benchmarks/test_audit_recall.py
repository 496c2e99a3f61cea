from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from benchmarks import audit_recall
from facemask.errors import FacemaskError


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


def test_crowd_photos_alone_with_a_second_opinion(weights: Path, tiny_data: Path, capsys) -> None:
    labels = Path(yaml.safe_load(tiny_data.read_text())["path"]) / "labels" / "test"
    faces = [sum(1 for line in f.read_text().splitlines() if line.strip()) for f in labels.glob("*.txt")]
    most = max(faces)
    flags = ["--min-faces", str(most), "--second-opinion", "mtcnn", "--conf-thres", "0.1"]
    opt = audit_recall.parse_opt([*flags, "--weights", str(weights), "--data", str(tiny_data)])
    r = audit_recall.run(**vars(opt))
    assert r["photos"] == faces.count(most) and r["deleted"] == round(0.33 * most * r["photos"])
    assert set(r["by_source"]) <= {"model", "mtcnn"}
    assert sum(n["candidates"] for n in r["by_source"].values()) == r["missing_candidates"]
    assert r["candidates_per_photo"] == r["missing_candidates"] / r["photos"]
    assert f"photos: {r['photos']}, deleted boxes: {r['deleted']}" in capsys.readouterr().out
    with pytest.raises(FacemaskError, match=f"no test photo of .* has {most + 1} or more label boxes"):
        audit_recall.run(weights=weights, data=tiny_data, min_faces=most + 1)
