"""The photos of one dataset's split that another model never trained on, as a dataset of their own, so
that two models trained on different splits are compared on photos neither saw. The shipped model
trained on the upright split (data/face_masks_splits.csv), which put 334 of the crowd split's 371 test
photos in train: on the crowd test split it is scored on photos it learned, the crowd run on photos it
never saw. The subset keeps the photos the other split file placed outside train (val, test or
nowhere). Images and labels are linked, not copied; the source report comes along, so val.py's
per-source rows still name the sources.

Usage:
    python tools/unseen_subset.py datasets/face_masks_crowd --split test --seen data/face_masks_splits.csv \
        --out datasets/face_masks_crowd_unseen
    python val.py --weights weights/face_masks.pt --data datasets/face_masks_crowd_unseen/data.yaml --task test
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # as yolov5's scripts do: run as a file, the package beside it is not on the path
    sys.path.append(str(ROOT))

from facemask.data.sources import IMAGE_SUFFIXES  # noqa: E402  (after the path above)
from facemask.data.split import SplitError, read_split_list  # noqa: E402


def run(dataset: str | Path, seen: str | Path, out: str | Path, split: str = "test") -> Path:
    """Write `out` (a dataset folder with a data.yaml) holding the photos of `dataset`'s `split` that the
    split file `seen` does not put in train; returns its data.yaml.

    Args:
        dataset: a dataset folder written by prepare_data.py (images/<split>, labels/<split>).
        seen: the other model's split file (image,source,group,split rows, as data/face_masks_splits.csv).
        out: the new dataset folder; it must not exist yet (nothing is overwritten).
        split: which split of `dataset` to take (val or test); the subset keeps its name.
    """
    dataset, seen, out = Path(dataset), Path(seen), Path(out)
    images = dataset / "images" / split
    if not images.is_dir():
        raise SystemExit(f"unseen_subset.py: {images}: no such folder (run prepare_data.py first)")
    if out.exists():
        raise SystemExit(f"unseen_subset.py: {out} exists; remove it or pick another --out")
    trained = _trained_on(seen)
    kept = [p for p in sorted(images.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES and p.stem not in trained]
    for sub in ("images", "labels"):
        (out / sub / split).mkdir(parents=True)
    for image in kept:
        _link(image, out / "images" / split / image.name)
        label = dataset / "labels" / split / f"{image.stem}.txt"
        if label.is_file():
            _link(label, out / "labels" / split / label.name)
    if (dataset / "report.json").is_file():
        shutil.copy2(dataset / "report.json", out / "report.json")
    data = out / "data.yaml"
    names = yaml.safe_load((dataset / "data.yaml").read_text(encoding="utf-8"))["names"]
    header = f"# {dataset}'s {split} photos that {seen.name} left out of train: to score, never to train on.\n"
    # ultralytics wants train and val entries in every data yaml; all three are the one split, to score
    content = {"train": f"images/{split}", "val": f"images/{split}", "test": f"images/{split}", "names": names}
    data.write_text(header + yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    print(f"{out}: {len(kept)} of {split}'s photos were not in {seen.name}'s train split")
    return data


def _trained_on(seen: Path) -> set[str]:
    """The photos `seen` puts in train, read as prepare_data.py's --keep-split reads a split file."""
    if not seen.is_file():  # read_split_list names --keep-split, prepare_data.py's flag, in its message
        raise SystemExit(f"unseen_subset.py: --seen {seen}: no such split file")
    try:
        listed = read_split_list(seen)
    except SplitError as e:
        raise SystemExit(f"unseen_subset.py: {e}") from e
    return {image for image, split in listed.items() if split == "train"}


def _link(source: Path, target: Path) -> None:
    """A symbolic link where the file system has them (images are megabytes), else a copy."""
    try:
        os.symlink(source.resolve(), target)
    except OSError:
        shutil.copy2(source, target)


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="dataset folder written by prepare_data.py")
    parser.add_argument("--seen", required=True, help="the other model's split file (its train photos are left out)")
    parser.add_argument("--out", required=True, help="new dataset folder (must not exist)")
    parser.add_argument("--split", default="test", choices=("val", "test"), help="split of the dataset to take")
    return parser.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run(**vars(opt))


if __name__ == "__main__":
    main(parse_opt())
