"""The merge's last step: each kept photo moved into its split folder with its YOLO label (in worker
processes), turned copies of training photos beside it, and what each split received."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from facemask.data.formats.yolo import write_label
from facemask.data.merge_judge import Judged
from facemask.data.split import SPLITS
from facemask.geometry import ROTATIONS, transpose_boxes, transposed_size
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


def write_jobs(kept: list[Judged], splits: list[str], names: list[str], rotate: bool) -> list[WriteJob]:
    """What to write for each kept photo; turned copies (`rotate`) in train only."""
    return [
        WriteJob(j.staged, s, j.name, j.boxes, [names.index(c) for c in j.classes], j.size, rotate and s == "train")
        for j, s in zip(kept, splits, strict=True)
    ]


def make_split_folders(root: Path) -> None:
    for split in SPLITS:
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)


def write_sample(job: WriteJob, root: Path) -> int:
    """Move a staged image into its split with its YOLO label; add rotated copies if asked.
    Returns the number of images written."""
    staged = Path(job.staged)
    image_path = root / "images" / job.split / f"{job.name}{staged.suffix}"
    os.replace(staged, image_path)
    write_label(root / "labels" / job.split / f"{job.name}.txt", job.class_ids, job.boxes, job.size)
    if not job.rotate:
        return 1
    with Image.open(image_path) as im:
        im.load()
        for angle, method in ROTATIONS.items():
            name = f"{job.name}_rot{angle}"
            save_rgb(im.transpose(method), image_path.with_name(f"{name}{staged.suffix}"))
            boxes = transpose_boxes(job.boxes, *job.size, method)
            size = transposed_size(*job.size, method)
            write_label(root / "labels" / job.split / f"{name}.txt", job.class_ids, boxes, size)
    return 1 + len(ROTATIONS)


def split_stats(jobs: list[WriteJob], written: list[int], names: list[str]) -> dict[str, Any]:
    """Per split: photos, turned copies, images in all, and boxes per class (copies included)."""
    stats = {s: {"photos": 0, "rotated": 0, "images": 0, "boxes": dict.fromkeys(names, 0)} for s in SPLITS}
    for job, n in zip(jobs, written, strict=True):
        s = stats[job.split]
        s["photos"] += 1
        s["rotated"] += n - 1
        s["images"] += n
        for c in job.class_ids:
            s["boxes"][names[c]] += n
    return stats
