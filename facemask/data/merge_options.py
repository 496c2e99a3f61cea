"""What decides a merged dataset's content: prepare_data.py's merge flags, each default written once here
(prepare_data.run() and its argparse read them)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from facemask.cli import option
from facemask.data.split import DEFAULT_FRACTIONS

NEGATIVES = "negatives"  # the source name of --negatives photos in the report and file names


def all_cores() -> int:
    """The merge's worker processes unless told: one per core."""
    return os.cpu_count() or 1


@dataclass
class MergeOptions:
    """Everything that decides the merged dataset's content; recorded in its report."""

    incorrect: str = option("drop", "images with incorrectly worn masks: drop them, count as No Mask, or keep class 2")
    min_box: float = option(2.0, "drop boxes narrower or shorter (pixels)")
    blur_threshold: float | None = option(
        None, "drop images whose variance of the Laplacian is below this (off by default; try 50-100)"
    )
    blur_scope: str = option("image", "measure blur on the image or its faces")  # quality.BLUR_SCOPES
    # pHash bits: at most this far apart = the same photo, kept once.
    dup_distance: int = option(4, "pHash bits: at most this = duplicates")
    # At most this far apart = similar photos, kept in one split. Augmented copies are found by keypoints
    # (near_copies); looser pHash links chain unrelated photos (at 12 bits, 732 of 2,954 in one group).
    group_distance: int = option(8, "pHash bits: at most this = one split (and copies)")
    split: tuple[float, float, float] = option(DEFAULT_FRACTIONS, "train/val/test proportions")
    seed: int = option(0, "seed of the split")  # and of which negatives stay
    rotate: bool = True  # 90/180/270 degree copies of training images (--no-rotate)
    slices: int | None = option(
        None, "add tiles of this many pixels of training crowd photos (5+ faces), e.g. 512; off by default"
    )
    negatives: str | None = option(None, "folder of photos without faces, kept as background images")
    negatives_share: float = option(0.1, "at most this share are negatives")
    keep_split: str | None = None  # a splits.csv whose photos keep their split (split.assign_splits)
    class_map: dict[str, str] = field(default_factory=dict)  # --class-map: a set's own class name -> meaning
    added: list[str] = field(default_factory=list)  # --add: folders merged beside the configured sources
    workers: int = field(default_factory=all_cores)
