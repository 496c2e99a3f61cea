"""The leak check's settings (leak_check.py's flags), each default written once here, and what makes two
photos copies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facemask.paths import PROJECT_ROOT

DEFAULT_BACKBONE = PROJECT_ROOT.parent / "shared" / "weights" / "yolov5nu_coco_backbone.pt"
#: Homography inliers that make two photos copies. On face_masks_upright, 2,000 random val/test x train
#: pairs of different photos reach at most 4 (p99 4); synthetic copies score a median of 153; among the
#: nearest neighbours, photos of one person in one session (andrewmvd) reach 15-24, and the copies that
#: sergiovirahonda augments hardest 15-20.
MIN_INLIERS = 20
#: How far those inliers must reach across the photo (leak_check_match.spread). Pairs of different photos
#: that share a watermark, a stock-photo banner (alamy) or a broadcaster's logo reach 25-69 inliers at a
#: spread of 0.02-0.10, and a face matched alone 0.15-0.18; copies (real and synthetic) 0.25 and more.
MIN_SPREAD = 0.2


@dataclass(frozen=True)
class LeakOptions:
    """How the check runs (leak_check.py's flags): `k` candidates verified per query, what makes a copy,
    the share of a split's photos with a copy in train above which the check fails, the calibration's
    random pairs and synthetic copies, the embedding's weights (any ultralytics YOLOv5; its layers 0-9),
    worker processes and the random seed."""

    splits: tuple[str, ...] = ("val", "test")
    k: int = 20
    min_inliers: int = MIN_INLIERS
    min_spread: float = MIN_SPREAD
    max_share: float = 0.02
    random_pairs: int = 2000
    synthetic: int = 100
    weights: Path = DEFAULT_BACKBONE
    workers: int = 2
    seed: int = 0

    def is_copy(self, inliers: int, spread: float) -> bool:
        return inliers >= self.min_inliers and spread >= self.min_spread
