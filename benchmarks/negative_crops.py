"""Faceless crops cut from labelled photos, for the negatives benchmark: squares at the corners and the
edge midpoints that touch no label box grown by 30% on each side, and that the face finder (if any) sees
no face in; `save_train` writes those of the train split as a folder for `prepare_data.py --negatives`."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from benchmarks.haar_cascade import HaarCascade
from facemask.data.dataset_files import load_labels, source_of
from facemask.data.leak_check_photos import is_turned_copy
from facemask.inference.media import read_image
from facemask.owned_dirs import publish

SHARES = (1 / 2, 1 / 3)  # crop side, as a share of the photo's short side
MARGIN = 0.3  # label boxes grown by this share of their size on each side


@dataclass
class Crop:
    name: str  # '<photo stem>_neg<k>'
    source: str
    photo: Path
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in the photo's pixels
    image: np.ndarray  # BGR


@dataclass
class Crops:
    crops: list[Crop] = field(default_factory=list)
    photos: int = 0
    unlabelled: int = 0  # photos with no label box: skipped, as their faces may all be unlabelled
    no_room: int = 0  # photos where no candidate misses every grown box
    found_face: list[Crop] = field(default_factory=list)  # dropped: the face finder saw a face


def candidate_boxes(width: int, height: int, min_side: int) -> list[tuple[int, int, int, int]]:
    """Squares at the corners, then the edge midpoints, larger first."""
    out = []
    for share in SHARES:
        side = int(min(width, height) * share)
        if side < min_side:
            continue
        right, bottom, mid_x, mid_y = width - side, height - side, (width - side) // 2, (height - side) // 2
        for x, y in (
            (0, 0),
            (right, 0),
            (0, bottom),
            (right, bottom),
            (mid_x, 0),
            (mid_x, bottom),
            (0, mid_y),
            (right, mid_y),
        ):
            box = (x, y, x + side, y + side)
            if box not in out:
                out.append(box)
    return out


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For box a, whether it overlaps (with positive area) each of boxes b (n, 4)."""
    return (a[0] < b[:, 2]) & (b[:, 0] < a[2]) & (a[1] < b[:, 3]) & (b[:, 1] < a[3])


def faceless_boxes(width: int, height: int, labels: np.ndarray, min_side: int, per_photo: int) -> list[tuple]:
    """At most `per_photo` candidates that touch no label box grown by MARGIN, nor each other."""
    size = np.concatenate([labels[:, 2:] - labels[:, :2]] * 2, axis=1)
    grown = labels + size * MARGIN * np.array([-1, -1, 1, 1])
    kept: list[tuple] = []
    for box in candidate_boxes(width, height, min_side):
        a = np.array(box, dtype=float)
        if overlaps(a, grown).any() or (kept and overlaps(a, np.array(kept, dtype=float)).any()):
            continue
        kept.append(box)
        if len(kept) == per_photo:
            break
    return kept


def make_crops(
    images: list[Path], sources: list[str], wanted: set[str], min_side: int, per_photo: int, finder: HaarCascade | None
) -> Crops:
    """The faceless crops of the photos of the `wanted` sources (the merge's turned copies left out: their
    original is in the split too), and what was left out."""
    out = Crops()
    for path in images:
        source = source_of(path.name, sources)
        if source not in wanted or is_turned_copy(path):
            continue
        frame = read_image(str(path))
        if frame.image is None:
            continue
        out.photos += 1
        height, width = frame.image.shape[:2]
        labels = load_labels(path, width, height)
        if not len(labels):
            out.unlabelled += 1
            continue
        boxes = faceless_boxes(width, height, labels.xyxy, min_side, per_photo)
        out.no_room += not boxes
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            crop = Crop(f"{path.stem}_neg{k}", source, path, (x1, y1, x2, y2), frame.image[y1:y2, x1:x2].copy())
            finds = finder is not None and finder.finds_face(cv2.cvtColor(crop.image, cv2.COLOR_BGR2GRAY))
            (out.found_face if finds else out.crops).append(crop)
    return out


def save_train(made: Crops, out: Path) -> None:
    """The crops as JPEGs in `out` (which facemask.owned_dirs.check_output allowed), swapped in whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    for c in made.crops:
        cv2.imwrite(str(tmp / f"{c.name}.jpg"), c.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    publish(tmp, out, "negatives")
    print(
        f"{len(made.crops)} faceless crops of {made.photos} train photos written to {out} "
        f"({len(made.found_face)} dropped by the face finder, {made.no_room} photos without room for one); "
        f"use: python prepare_data.py --sources DIR --negatives {out}"
    )
