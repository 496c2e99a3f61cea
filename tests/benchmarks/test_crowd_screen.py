"""benchmarks/crowd_screen.py: every arm trains on the same crowd photos, chosen by the base labels, with the
images and labels of the dataset it is given (slices come with their photo); the whole arm (slow: it trains)
writes a summary with the crowd row that --table prints."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from benchmarks import crowd_screen

BOX = "0 0.5 0.5 0.1 0.1\n"


def dataset(root: Path, photos: dict[str, int]) -> Path:
    """images/train and labels/train: each photo with its number of boxes (no label file for 0)."""
    for sub in ("images", "labels"):
        (root / sub / "train").mkdir(parents=True)
    for stem, boxes in photos.items():
        (root / "images" / "train" / f"{stem}.jpg").write_bytes(b"jpeg")
        if boxes:
            (root / "labels" / "train" / f"{stem}.txt").write_text(BOX * boxes + "\n")
    return root


def test_the_base_labels_choose_the_photos_and_slices_come_with_theirs(tmp_path: Path) -> None:
    base = dataset(tmp_path / "base", {"crowd_1a2b": 5, "pair_3c4d": 2, "empty_5e6f": 0})
    # the corrected copy boxed 3 more faces in the pair photo: still not a crowd photo of the base labels
    variant = dataset(
        tmp_path / "variant",
        {"crowd_1a2b": 6, "crowd_1a2b_s0": 3, "crowd_1a2b_s1": 0, "pair_3c4d": 5, "pair_3c4d_s0": 2},
    )
    photos = crowd_screen.crowd_photos(base, min_faces=5)
    assert photos == {"crowd_1a2b"}
    out = tmp_path / "arm"
    assert crowd_screen.link_subset(variant, photos, out) == 3
    assert sorted(p.name for p in (out / "images" / "train").iterdir()) == [
        "crowd_1a2b.jpg",
        "crowd_1a2b_s0.jpg",
        "crowd_1a2b_s1.jpg",
    ]
    linked = out / "labels" / "train" / "crowd_1a2b.txt"
    assert linked.read_text() == BOX * 6 + "\n"  # the variant's labels, not the base's
    assert linked.stat().st_ino == (variant / "labels" / "train" / "crowd_1a2b.txt").stat().st_ino  # a link
    assert sorted(p.name for p in (out / "labels" / "train").iterdir()) == ["crowd_1a2b.txt", "crowd_1a2b_s0.txt"]


def test_class_balanced_sampling_links_the_photos_with_the_class_twice(tmp_path: Path) -> None:
    base = dataset(tmp_path / "base", {"masked_1a2b": 5, "unmasked_3c4d": 5})
    (base / "labels" / "train" / "unmasked_3c4d.txt").write_text(BOX * 4 + "1 0.2 0.2 0.1 0.1\n")
    photos = crowd_screen.crowd_photos(base, min_faces=5)
    twice = frozenset(crowd_screen.with_class(base, photos, cls=1))
    assert twice == {"unmasked_3c4d"}
    sliced = dataset(tmp_path / "sliced", {"masked_1a2b": 5, "unmasked_3c4d": 5, "unmasked_3c4d_s0": 2})
    assert crowd_screen.link_subset(sliced, photos, tmp_path / "sliced_arm", twice) == 5  # its slices twice too
    out = tmp_path / "arm"
    assert crowd_screen.link_subset(base, photos, out, twice) == 3
    assert sorted(p.name for p in (out / "labels" / "train").iterdir()) == [
        "masked_1a2b.txt",
        "unmasked_3c4d.txt",
        "unmasked_3c4d_again.txt",
    ]
    assert crowd_screen.repeated(base, photos, cls=None, faces=None) == frozenset()
    pair = dataset(tmp_path / "pair", {"crowd_1a2b": 5, "pair_3c4d": 2})
    all_photos = crowd_screen.crowd_photos(pair, min_faces=1)
    assert crowd_screen.repeated(pair, all_photos, cls=None, faces=5) == {"crowd_1a2b"}  # crowds weighed up
    again = out / "images" / "train" / "unmasked_3c4d_again.jpg"
    assert again.stat().st_ino == (base / "images" / "train" / "unmasked_3c4d.jpg").stat().st_ino


def test_the_arm_is_scored_on_the_val_split_of_the_val_data(tiny_data: Path, tmp_path: Path) -> None:
    written = yaml.safe_load(crowd_screen.write_data(tmp_path, tiny_data).read_text())
    root = Path(yaml.safe_load(tiny_data.read_text())["path"])
    assert written["path"] == str(tmp_path) and written["train"] == "images/train"
    assert Path(written["val"]).resolve() == (root / "images" / "val").resolve()
    assert written["names"] == yaml.safe_load(tiny_data.read_text())["names"]


def test_hyperparameters_are_key_value_pairs() -> None:
    opt = crowd_screen.parse_opt(shlex.split("--name w --hyp cls_pw=0.5 optimizer=SGD --epochs 2"))
    assert dict(opt.hyp) == {"cls_pw": 0.5, "optimizer": "SGD"} and opt.epochs == 2
    with pytest.raises(SystemExit):
        crowd_screen.parse_opt(["--hyp", "cls_pw"])


@pytest.mark.slow
def test_one_arm_trains_scores_and_is_tabled(trained_run: Path, tiny_data: Path, tmp_path: Path, capsys) -> None:
    root = Path(yaml.safe_load(tiny_data.read_text())["path"])
    flags = ["--name", "tiny", "--weights", str(trained_run / "weights" / "best.pt"), "--base", str(root)]
    flags += ["--val-data", str(tiny_data), "--epochs", "1", "--img", "64", "--min-faces", "1"]
    opt = crowd_screen.parse_opt([*flags, "--project", str(tmp_path), "--hyp", "cls_pw=0.5"])
    opt.hyp = dict(opt.hyp)
    summary = crowd_screen.run(**{k: v for k, v in vars(opt).items() if k != "table"})
    assert summary["images"] == len(crowd_screen.crowd_photos(root, 1)) > 0
    assert summary["hyp"] == {"cls_pw": 0.5} and summary["train_s"] >= 0
    assert set(crowd_screen.COLUMNS) <= set(summary["all"]) and summary["crowd"]["photos"] >= 0
    assert json.loads((tmp_path / "tiny" / "summary.json").read_text()) == summary
    capsys.readouterr()
    assert crowd_screen.table(tmp_path) == [summary]
    assert re.search(r"^\| tiny \| \d+ \| \d+ \| [\d.-]+ \|", capsys.readouterr().out, re.M)


def test_photos_are_copied_where_they_cannot_be_linked(tmp_path: Path, monkeypatch) -> None:
    base = dataset(tmp_path / "base", {"crowd_1a2b": 5})

    def cross_device(*_: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(crowd_screen.os, "link", cross_device)
    assert crowd_screen.link_subset(base, {"crowd_1a2b"}, tmp_path / "arm") == 1
    assert (tmp_path / "arm" / "labels" / "train" / "crowd_1a2b.txt").read_text() == BOX * 5 + "\n"
