"""An audit of a training split with rotated copies (prepare_data.py's default): each photo is judged once,
and what --apply changes on it lands, turned, on its copies, where the merge put the photo's boxes."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

import audit_labels
import prepare_data
from facemask.audit.candidates import Candidate
from facemask.audit.copies import rotated_copies, turned
from tests.audit.test_audit_labels import colour_model, weights  # noqa: F401  (fixtures)
from tests.conftest import build_sources

ANGLES = (90, 180, 270)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory) -> Path:
    """A merged dataset with rotated copies of every training photo."""
    root = tmp_path_factory.mktemp("rotated")
    src = build_sources(root / "in")
    prepare_data.run(
        sources=src.root, config=src.config, out=root / "ds", data=root / "ds.yaml", workers=1, progress=False
    )
    return root / "ds"


def lines(label: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in label.read_text().splitlines()]


def copies_of(photo: Path) -> list[Path]:
    return [photo.with_name(f"{photo.stem}_rot{a}{photo.suffix}") for a in ANGLES]


def label_of(image: Path) -> Path:
    return Path(str(image.with_suffix(".txt")).replace("/images/", "/labels/"))


def test_only_copies_with_their_photo_are_copies(rotated: Path) -> None:
    train = sorted((rotated / "images" / "train").iterdir())
    photos = [p for p in train if "_rot" not in p.stem]
    assert rotated_copies(train) == {c for p in photos for c in copies_of(p)} and len(photos) * 4 == len(train)
    assert rotated_copies(photos[:1] + copies_of(photos[1])[:1]) == set()  # a copy without its photo is a photo


def test_a_turned_box_lands_where_the_merge_turned_the_photo_s_box(rotated: Path) -> None:
    photo = next(p for p in sorted((rotated / "images" / "train").iterdir()) if "_rot" not in p.stem)
    for line in lines(label_of(photo)):
        c = Candidate(photo.name, "unfound", int(line[0]), None, *line[1:])
        for angle, copy in zip(ANGLES, copies_of(photo), strict=True):
            t = turned(c, angle, copy.name)
            assert any(np.allclose([t.cx, t.cy, t.w, t.h], box[1:], atol=1e-5) for box in lines(label_of(copy)))


def test_the_audit_judges_photos_and_apply_boxes_their_copies_too(
    rotated: Path,
    weights: Path,  # noqa: F811
    colour_model,  # noqa: F811
    tmp_path: Path,
    capsys,
) -> None:
    root = tmp_path / "ds"
    shutil.copytree(rotated, root)
    photo = next(p for p in sorted((root / "images" / "train").iterdir()) if "_rot" not in p.stem)
    deleted = {}
    for image in [photo, *copies_of(photo)]:  # the same face unboxed on the photo and its copies, as merged
        rows = lines(label_of(image))
        deleted[image.name] = next(r for r in rows if r[0] == 1)
        label_of(image).write_text("".join(" ".join(map(str, r)) + "\n" for r in rows if r[0] != 1))
    result = audit_labels.run(
        weights=weights,
        data=root / "data.yaml",
        split="train",
        imgsz=64,
        project=tmp_path / "runs",
        apply="missing=add",
        out=tmp_path / "fixed",
    )
    copies = len(list((root / "images" / "train").iterdir())) * 3 // 4
    out = capsys.readouterr().out
    assert f"{copies} rotated copies are audited through their photos" in out
    assert "in 4 training images: 1 photo and 3 of its rotated copies; val and test unchanged" in out
    assert result.summary["sources"]["total"]["images"] == copies // 3
    with (result.save_dir / "candidates.csv").open(newline="") as f:
        found = [r for r in csv.DictReader(f) if r["kind"] == "missing"]
    assert [r["image"] for r in found] == [f"images/train/{photo.name}"]
    assert result.summary["apply"]["boxes"] == 4 and result.summary["apply"]["images_changed"] == 4
    assert result.summary["apply"]["photos_changed"] == 1
    for name, box in deleted.items():
        added = lines(tmp_path / "fixed" / "labels" / "train" / Path(name).with_suffix(".txt"))[-1]
        assert added[0] == 1 and np.allclose(added[1:], box[1:], atol=0.03), name
