"""tools/unseen_subset.py: the subset holds exactly the split's photos that the other split file left out
of train, with their labels, val.py scores it with its source rows, and nothing is overwritten."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import val
from tests.tools import load_tool


def _seen_with_train(dataset: Path, folder: Path, in_train: set[str]) -> Path:
    """A split file like the other model's: the named photos in train, every other photo in test."""
    with (dataset / "splits.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["split"] = "train" if row["image"] in in_train else "test"
    seen = folder / "seen.csv"
    with seen.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return seen


def test_the_subset_is_the_unseen_photos_and_val_scores_it(trained_run: Path, tiny_data: Path, tmp_path: Path) -> None:
    dataset = tiny_data.with_suffix("")
    test_photos = sorted(p.stem for p in (dataset / "images" / "test").iterdir())
    seen = _seen_with_train(dataset, tmp_path, {test_photos[0]})
    tool = load_tool("unseen_subset.py")
    opt = tool.parse_opt([str(dataset), "--seen", str(seen), "--out", str(tmp_path / "unseen")])
    data = tool.run(**vars(opt))
    kept = sorted(p.stem for p in (tmp_path / "unseen" / "images" / "test").iterdir())
    assert kept == test_photos[1:]
    labels = sorted(p.stem for p in (tmp_path / "unseen" / "labels" / "test").iterdir())
    assert labels == kept
    for name in kept:
        linked = tmp_path / "unseen" / "labels" / "test" / f"{name}.txt"
        assert linked.read_text() == (dataset / "labels" / "test" / f"{name}.txt").read_text()
    result = val.run(weights=trained_run / "weights" / "best.pt", data=data, task="test", imgsz=64, project=tmp_path)
    assert result["all"]["images"] == len(kept)
    assert any(group != "all" and group != "crowd" for group in result["by_photos"])  # sources still named


def test_an_existing_subset_is_not_overwritten(tiny_data: Path, tmp_path: Path) -> None:
    dataset = tiny_data.with_suffix("")
    (tmp_path / "unseen").mkdir()
    (tmp_path / "unseen" / "keep.txt").write_text("mine")
    tool = load_tool("unseen_subset.py")
    with pytest.raises(SystemExit, match="exists"):
        tool.run(dataset, _seen_with_train(dataset, tmp_path, set()), tmp_path / "unseen")
    assert (tmp_path / "unseen" / "keep.txt").read_text() == "mine"
