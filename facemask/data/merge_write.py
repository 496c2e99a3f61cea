"""The merge's last step: each kept photo moved into its split folder with its YOLO label (in worker
processes), turned copies and sliced tiles of training photos beside it, and what each split received."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from facemask.data.dataset_files import rotation_tag
from facemask.data.formats.yolo import write_label
from facemask.data.merge_judge import Judged
from facemask.data.merge_options import MergeOptions
from facemask.data.slices import SliceOptions, slice_photo
from facemask.data.split import SPLITS
from facemask.geometry import ROTATIONS, to_yolo, transpose_boxes
from facemask.images import save_rgb


@dataclass
class WriteJob:
    staged: str
    split: str
    name: str
    boxes: np.ndarray
    class_ids: list[int]
    size: tuple[int, int]
    rotate: bool
    slices: int | None = None  # tile size of the sliced copies (train only); None: none


@dataclass
class Written:
    """What write_sample wrote for one photo: its copies, and the classes of every box written."""

    rotated: int = 0
    sliced: int = 0
    class_ids: list[int] = field(default_factory=list)

    @property
    def images(self) -> int:
        return 1 + self.rotated + self.sliced


def write_jobs(kept: list[Judged], splits: list[str], names: list[str], opts: MergeOptions) -> list[WriteJob]:
    """What to write for each kept photo; turned copies (`opts.rotate`) and tiles (`opts.slices`) in train
    only: a copy stays in its photo's split."""
    return [
        WriteJob(
            j.staged,
            s,
            j.name,
            j.boxes,
            [names.index(c) for c in j.classes],
            j.size,
            opts.rotate and s == "train",
            opts.slices if s == "train" else None,
        )
        for j, s in zip(kept, splits, strict=True)
    ]


def make_split_folders(root: Path) -> None:
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)


def write_sample(job: WriteJob, root: Path) -> Written:
    """Move a staged image into its split with its YOLO label; add rotated copies and tiles if asked."""
    staged = Path(job.staged)
    image_path = root / "images" / job.split / f"{job.name}{staged.suffix}"
    os.replace(staged, image_path)
    write_label(root / "labels" / job.split / f"{job.name}.txt", job.class_ids, job.boxes, job.size)
    written = Written(class_ids=list(job.class_ids))
    if not (job.rotate or job.slices):
        return written
    with Image.open(image_path) as im:
        im.load()
        if job.rotate:
            for angle, method in ROTATIONS.items():
                boxes = transpose_boxes(job.boxes, *job.size, method)
                _write_copy(im.transpose(method), boxes, job.class_ids, image_path, rotation_tag(angle))
            written.rotated = len(ROTATIONS)
            written.class_ids += job.class_ids * len(ROTATIONS)
        if job.slices:
            tiles = slice_photo(im, to_yolo(job.boxes, *job.size), job.class_ids, SliceOptions(size=job.slices))
            for k, tile in enumerate(tiles):
                _write_copy(tile.image, tile.boxes, tile.class_ids, image_path, f"_s{k}")
                written.class_ids += tile.class_ids
            written.sliced = len(tiles)
    return written


def _write_copy(image: Image.Image, boxes: np.ndarray, class_ids: list[int], photo: Path, tag: str) -> None:
    """A copy of `photo` (images/<split>/<name>.<ext>) saved beside it as <name><tag>, its label beside
    the photo's in labels/<split>."""
    name = f"{photo.stem}{tag}"
    save_rgb(image, photo.with_name(f"{name}{photo.suffix}"))
    write_label(photo.parents[2] / "labels" / photo.parent.name / f"{name}.txt", class_ids, boxes, image.size)


def split_stats(jobs: list[WriteJob], written: list[Written], names: list[str]) -> dict[str, Any]:
    """Per split: photos, turned copies, tiles, images in all, and boxes per class (copies included)."""
    stats = {s: {"photos": 0, "rotated": 0, "sliced": 0, "images": 0, "boxes": dict.fromkeys(names, 0)} for s in SPLITS}
    for job, w in zip(jobs, written, strict=True):
        s = stats[job.split]
        s["photos"] += 1
        s["rotated"] += w.rotated
        s["sliced"] += w.sliced
        s["images"] += w.images
        for c in w.class_ids:
            s["boxes"][names[c]] += 1
    return stats
