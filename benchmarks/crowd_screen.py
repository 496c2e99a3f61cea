"""Screen a training change on crowd photos before it gets CPU hours: fine-tune one checkpoint for a short,
fixed budget on the training photos with 5 or more faces, then score val.py's rows on the val split.

Every arm starts from the same weights and trains on the same photos (chosen by their labels in --base),
with the images and labels of --train-from (a copy corrected by `audit_labels.py --apply`, or a merge with
`prepare_data.py --slices`: a chosen photo's slices come with it) and the hyperparameters of --hyp on top
of configs/screen_crowd.yaml. It ranks changes; it is not a model's figure: a few epochs of a model in
mid-training, judged on the val split's crowd photos (36 on the crowd split). Run one arm twice with
another --seed to see how far apart the same arm lands. On 2 CPU cores an arm takes about 10 minutes.

Usage:
    python -m benchmarks.crowd_screen --name base
    python -m benchmarks.crowd_screen --name base_seed1 --seed 1
    python -m benchmarks.crowd_screen --name add --train-from datasets/face_masks_crowd_add
    python -m benchmarks.crowd_screen --name cls_pw --hyp cls_pw=0.5
    python -m benchmarks.crowd_screen --name slices --train-from datasets/face_masks_crowd_sliced --epochs 2
    python -m benchmarks.crowd_screen --name twice --repeat-class 1 --epochs 2  # No Mask photos twice an epoch
    python -m benchmarks.crowd_screen --name all_crowds_twice --min-faces 1 --repeat-faces 5 --epochs 1
    python -m benchmarks.crowd_screen --table          # every arm so far, one row each
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

import train
import val
from benchmarks import defaults
from facemask.cli import image_size, positive_int, run_or_fail
from facemask.data.data_yaml import check_data, dataset_root
from facemask.data.sources import IMAGE_SUFFIXES
from facemask.model.photo_scores import CROWD
from facemask.owned_dirs import run_dir
from facemask.paths import CONFIGS_DIR, PROJECT_ROOT

CONFIG = CONFIGS_DIR / "screen_crowd.yaml"
SLICE = re.compile(r"^(?P<photo>.+)_s\d+$")  # prepare_data.py --slices names a photo's slices <stem>_s<k>
COLUMNS = ("mAP50", "mAP50-95", "recall", "No Mask recall", "16-32 recall")


def crowd_photos(base: Path, min_faces: int) -> set[str]:
    """Stems of base's training photos with at least `min_faces` label boxes."""
    labels = base / "labels" / "train"
    return {f.stem for f in labels.glob("*.txt") if _boxes(f) >= min_faces}


def _boxes(label: Path) -> int:
    return sum(1 for line in _lines(label) if line.strip())


def with_class(base: Path, photos: set[str], cls: int) -> set[str]:
    """The chosen photos with a box of class `cls` in base's labels: class-balanced sampling repeats these.
    ultralytics has no sampler option, so a second link of each photo stands in for a weighted sampler."""
    labels = base / "labels" / "train"
    return {s for s in photos if any(line.split()[:1] == [str(cls)] for line in _lines(labels / f"{s}.txt"))}


def repeated(base: Path, photos: set[str], cls: int | None, faces: int | None) -> frozenset[str]:
    """The chosen photos seen twice an epoch: those with a box of class `cls`, and those with `faces` or
    more boxes (crowds weighed up among all photos with --min-faces 1)."""
    twice = with_class(base, photos, cls) if cls is not None else set()
    return frozenset(twice | (crowd_photos(base, faces) & photos if faces is not None else set()))


def _lines(label: Path) -> list[str]:
    return label.read_text().splitlines()


def link_subset(train_from: Path, photos: set[str], out: Path, twice: frozenset[str] = frozenset()) -> int:
    """Hard-link the chosen photos of train_from (and their slices) with their labels into out/images/train
    and out/labels/train, the photos in `twice` (and their slices) a second time as <stem>_again; returns
    the number of images."""
    (out / "images" / "train").mkdir(parents=True, exist_ok=True)
    (out / "labels" / "train").mkdir(parents=True, exist_ok=True)
    n = 0
    for image in sorted((train_from / "images" / "train").iterdir()):
        sliced = SLICE.match(image.stem)
        photo = sliced["photo"] if sliced and image.stem not in photos else image.stem
        if image.suffix.lower() not in IMAGE_SUFFIXES or photo not in photos:
            continue
        label = train_from / "labels" / "train" / f"{image.stem}.txt"
        for stem in (image.stem, f"{image.stem}_again")[: 2 if photo in twice else 1]:
            _link(image, out / "images" / "train" / f"{stem}{image.suffix}")
            if label.is_file():
                _link(label, out / "labels" / "train" / f"{stem}.txt")
            n += 1
    return n


def _link(source: Path, dest: Path) -> None:
    """A hard link (no copy of a dataset per arm), or a copy where runs/ is on another file system."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def write_data(out: Path, val_data: Path) -> Path:
    """out's yaml: its linked training photos, and the val split of `val_data` where it is."""
    data, content = check_data(val_data, split="val")
    val_images = dataset_root(data, content) / str(content["val"])
    path = out / "data.yaml"
    path.write_text(
        yaml.safe_dump({"path": str(out), "train": "images/train", "val": str(val_images), "names": content["names"]})
    )
    return path


def run(
    name: str = "base",
    weights: str | Path = PROJECT_ROOT / "weights" / "checkpoints" / "cpu_v5n_512_crowd_e40.pt",
    base: str | Path = PROJECT_ROOT / "datasets" / "face_masks_crowd",
    train_from: str | Path | None = None,
    val_data: str | Path = PROJECT_ROOT / "data" / "face_masks_crowd.yaml",
    hyp: dict[str, Any] | None = None,
    epochs: int | None = None,
    imgsz: int | None = None,
    seed: int | None = None,
    min_faces: int = 5,
    repeat_class: int | None = None,
    repeat_faces: int | None = None,
    config: str | Path = CONFIG,
    project: str | Path = PROJECT_ROOT / "runs" / "screen",
) -> dict[str, Any]:
    """Train one arm and score it; returns (and writes to project/name/summary.json) the arm's settings,
    its training images and seconds, and val.py's rows of all photos and of the crowd photos.

    Args:
        name: the arm's name (its folder under `project`).
        weights: the checkpoint every arm starts from.
        base: the merged dataset whose labels choose the photos.
        train_from: the dataset the images and labels come from (default: `base`).
        val_data: the yaml whose val split scores the arm.
        hyp: hyperparameters over the config's (e.g. {"cls_pw": 0.5}).
        epochs, imgsz, seed: over the config's.
        min_faces: a photo with this many label boxes is a crowd photo.
        repeat_class: class id whose photos (by base's labels) are seen twice an epoch, e.g. 1 for No Mask.
        repeat_faces: photos with this many label boxes or more are seen twice an epoch.
        config: the fixed recipe (configs/screen_crowd.yaml).
        project: where the arms' folders go.
    """
    out = run_dir(project, name, kind="crowd screen", protected=[base, train_from or base, weights])
    source = Path(train_from or base)
    photos = crowd_photos(Path(base), min_faces)
    twice = repeated(Path(base), photos, repeat_class, repeat_faces)
    images = link_subset(source, photos, out / "data", twice)
    settings = {"epochs": epochs, "imgsz": imgsz, "seed": seed, "hyp": hyp or {}}
    data = write_data(out / "data", Path(val_data))
    start = time.perf_counter()
    trained = train.run(
        config=config,
        weights=str(weights),
        data=str(data),
        project=str(out),
        name="train",
        wandb="disabled",
        **settings,
    )
    seconds = round(time.perf_counter() - start)
    scores = val.run(weights=trained / "weights" / "last.pt", data=val_data, task="val", plots=False, project=out)
    rows = scores["by_photos"]
    summary = {"name": name, "train_from": str(source), **settings, "repeat_class": repeat_class}
    summary |= {"repeat_faces": repeat_faces, "images": images, "train_s": seconds}
    summary |= {"all": rows["all"], "crowd": rows[CROWD]}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print_table([summary])
    return summary


def print_table(summaries: list[dict[str, Any]]) -> None:
    """One markdown row per arm: its crowd row and the all-photos mAP@0.5."""
    print("| arm | images | train s | crowd " + " | crowd ".join(COLUMNS) + " | all mAP50 |")
    print("|---" * (len(COLUMNS) + 4) + "|")
    for s in summaries:
        crowd = " | ".join(_figure(s["crowd"][c]) for c in COLUMNS)
        print(f"| {s['name']} | {s['images']} | {s['train_s']} | {crowd} | {_figure(s['all']['mAP50'])} |")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"  # None: a split without such faces


def table(project: str | Path = PROJECT_ROOT / "runs" / "screen") -> list[dict[str, Any]]:
    """Every arm under `project`, oldest first."""
    files = sorted(Path(project).glob("*/summary.json"), key=lambda f: f.stat().st_mtime)
    summaries = [json.loads(f.read_text()) for f in files]
    print_table(summaries)
    return summaries


def hyp_pair(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: give KEY=VALUE, e.g. cls_pw=0.5")
    return key, yaml.safe_load(value)


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", help="the arm's name")
    p.add_argument("--weights", type=Path, help="the checkpoint every arm starts from")
    p.add_argument("--base", type=Path, help="dataset whose labels choose the crowd photos")
    p.add_argument("--train-from", type=Path, help="dataset the images and labels come from (default: --base)")
    p.add_argument("--val-data", type=Path, help="yaml whose val split scores the arm")
    p.add_argument("--hyp", type=hyp_pair, nargs="+", metavar="KEY=VALUE", help="hyperparameters over the config's")
    p.add_argument("--epochs", type=positive_int())
    p.add_argument("--img", "--imgsz", dest="imgsz", type=image_size)
    p.add_argument("--seed", type=int)
    p.add_argument("--min-faces", type=positive_int())
    p.add_argument("--repeat-class", type=int, help="class id whose photos are seen twice an epoch (1: No Mask)")
    p.add_argument("--repeat-faces", type=positive_int(), help="photos with this many faces are seen twice an epoch")
    p.add_argument("--config", type=Path)
    p.add_argument("--project", type=Path)
    p.add_argument("--table", action="store_true", help="print every arm under --project, and train none")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    kwargs = vars(opt)
    if kwargs.pop("table"):
        run_or_fail("benchmarks.crowd_screen", table, argparse.Namespace(project=opt.project))
        return
    kwargs["hyp"] = dict(kwargs["hyp"] or [])
    run_or_fail("benchmarks.crowd_screen", run, argparse.Namespace(**kwargs))


if __name__ == "__main__":
    main(parse_opt())
