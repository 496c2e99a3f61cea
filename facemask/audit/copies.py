"""The rotated copies of a merged training split (prepare_data.py writes <name>_rot90, _rot180 and _rot270
beside each photo) in an audit: they carry their photo's labels, turned. So the photo is audited once,
and what is applied to it is applied, turned, to its copies; a fold model (`--folds`) never trains on a
copy of a photo it judges. Slices (<name>_s<k>) crop the photo and are audited as photos of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from facemask.audit.candidates import Candidate
from facemask.data.dataset_files import ROTATED_COPY, rotation_tag
from facemask.geometry import ROTATIONS, transpose_boxes


def rotated_copies(images: Sequence[Path]) -> set[Path]:
    """The images of `images` that are a rotated copy of another one of them (same folder and suffix)."""
    present = set(images)
    return {p for p in images if (m := ROTATED_COPY.match(p.stem)) and p.with_name(m["stem"] + p.suffix) in present}


def turned(c: Candidate, angle: int, image: str) -> Candidate:
    """`c` as it lies on `image`, its photo's copy turned by `angle` (normalised boxes: a 1 x 1 image)."""
    corners = np.array([[c.cx - c.w / 2, c.cy - c.h / 2, c.cx + c.w / 2, c.cy + c.h / 2]])
    x1, y1, x2, y2 = transpose_boxes(corners, 1, 1, ROTATIONS[angle])[0]
    return replace(c, image=image, cx=(x1 + x2) / 2, cy=(y1 + y2) / 2, w=x2 - x1, h=y2 - y1)


def onto_copies(candidates: Iterable[Candidate], train: Sequence[Path], root: Path) -> list[Candidate]:
    """The candidates to apply to a split of `train` images: each one on a photo, and the same turned onto
    every rotated copy of it. A copy's own candidates (from an audit that saw copies) give way to its photo's."""
    copies = {p.relative_to(root).as_posix() for p in rotated_copies(train)}
    out = []
    for c in candidates:
        if c.image in copies:
            continue
        out.append(c)
        photo = PurePosixPath(c.image)
        for angle in ROTATIONS:
            copy = photo.with_name(photo.stem + rotation_tag(angle) + photo.suffix).as_posix()
            if copy in copies:
                out.append(turned(c, angle, copy))
    return out
