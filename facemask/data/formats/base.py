"""What the formats share: the labels of one photo as writers take them, and finding a set file's photos."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facemask.data.labels import LabelFile

#: Label Studio stores an uploaded photo as /data/upload/<project>/<8 hex digits>-<original name>.
UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")


@dataclass
class ImageLabels:
    """The boxes of one photo, as a writer takes them: `rel` is the photo's path inside its folder, boxes
    are pixel x1, y1, x2, y2 in the upright (EXIF-applied) photo of `size` (width, height)."""

    rel: str
    size: tuple[int, int]
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    classes: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


def match_images(images: Iterable[Path], labelled: dict[str, LabelFile], base: Path) -> dict[Path, LabelFile]:
    """The labels of each image: by its path relative to `base` (the set file's folder), else by its file
    name, else by the file name a set gives once Label Studio's upload prefix is taken off."""
    by_name: dict[str, list[LabelFile]] = {}
    for name, label in labelled.items():
        for key in {Path(name).name, UPLOAD_PREFIX.sub("", Path(name).name)}:
            by_name.setdefault(key, []).append(label)
    found = {}
    for image in images:
        rel = image.relative_to(base).as_posix() if image.is_relative_to(base) else None
        if rel is not None and rel in labelled:
            found[image] = labelled[rel]
        elif len(by_name.get(image.name, [])) == 1:  # a name two entries share says nothing
            found[image] = by_name[image.name][0]
    return found
