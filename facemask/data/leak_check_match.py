"""The leak check's two stages on keypoints: candidates by SIFT descriptor votes (every descriptor of a
query looks up its nearest train descriptors in one FLANN k-d tree; near-copies share hundreds of local
features), and verification: ratio-test matches that one plausible homography explains, reaching across
the photo (a shared watermark, banner or logo matches in one strip)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from facemask.data.leak_check_features import Keys

VOTE_NEIGHBOURS = 10  # train descriptors looked up per query descriptor
VOTE_RATIO = 0.9  # a neighbour votes when nearer than this share of the last neighbour's distance
RATIO = 0.75  # Lowe's ratio test in verification
RANSAC_PX = 0.01  # reprojection threshold, as a share of the photo's longest side

_MATCHER: Any = None
_KEYS: dict[str, Keys] = {}  # each verifying worker's copy of the keypoints, sent once at its start


class VoteIndex:
    """All descriptors of a set of photos in one FLANN k-d tree, for descriptor voting."""

    def __init__(self, keys: Sequence[Keys]) -> None:
        self.n = len(keys)
        self.descriptors = np.concatenate([k.descriptors for k in keys]).astype(np.float32)  # kept alive for FLANN
        self.owner = np.concatenate([np.full(len(k.descriptors), i, np.int64) for i, k in enumerate(keys)])
        self.neighbours = min(VOTE_NEIGHBOURS, len(self.descriptors))
        self.index = cv2.flann_Index(self.descriptors, {"algorithm": 1, "trees": 4})  # 1: FLANN_INDEX_KDTREE

    def votes(self, descriptors: np.ndarray | None) -> np.ndarray:
        """(n,) descriptors of `descriptors` that have a photo among their nearest neighbours, per photo."""
        if descriptors is None or not len(descriptors) or self.neighbours < 2:
            return np.zeros(self.n, np.int64)
        idx, dist = self.index.knnSearch(descriptors.astype(np.float32), self.neighbours, params={"checks": 64})
        close = dist < VOTE_RATIO**2 * dist[:, -1:]  # FLANN's L2 distances are squared
        rows = np.broadcast_to(np.arange(len(idx))[:, None], idx.shape)
        codes = np.unique(rows[close] * self.n + self.owner[idx[close]])  # one vote per descriptor and photo
        return np.bincount(codes % self.n, minlength=self.n)

    def query(self, keys: Keys) -> np.ndarray:
        """Votes for the photo as it is or mirrored, whichever is higher, per photo."""
        return np.maximum(self.votes(keys.descriptors), self.votes(keys.mirror_descriptors))


def rank_of(scores: np.ndarray) -> np.ndarray:
    """Positions 0.. of the items by score, best first (ties by index, for repeatable runs)."""
    return np.argsort(-scores, kind="stable")


def interleave(rankings: Sequence[np.ndarray], k: int) -> list[int]:
    """The first k distinct items of the rankings taken in turn."""
    out: list[int] = []
    seen: set[int] = set()
    for position in range(max(len(r) for r in rankings)):
        for r in rankings:
            if position < len(r) and int(r[position]) not in seen:
                seen.add(int(r[position]))
                out.append(int(r[position]))
                if len(out) == k:
                    return out
    return out


@dataclass
class Match:
    inliers: int
    mirrored: bool
    src: np.ndarray  # (inliers, 2) query points (in the mirror image's frame when mirrored)
    dst: np.ndarray  # (inliers, 2) train points
    spread: float = 0.0  # of the inliers over the photo that they cover best (see spread())


def ratio_matches(descriptors: np.ndarray, b: Keys) -> list[Any]:
    """Lowe's ratio-test matches, one per train keypoint (SIFT repeats a point at several orientations)."""
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = cv2.BFMatcher(cv2.NORM_L2)
    knn = _MATCHER.knnMatch(descriptors.astype(np.float32), b.descriptors.astype(np.float32), k=2)
    best: dict[int, Any] = {}
    for pair in knn:
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            m = pair[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
                best[m.trainIdx] = m
    return list(best.values())


def homography_inliers(points: np.ndarray, descriptors: np.ndarray, b: Keys) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test matches that one plausible homography explains: (query points, train points)."""
    empty = np.zeros((0, 2), np.float32)
    if len(descriptors) < 4 or len(b.descriptors) < 4:
        return empty, empty
    matches = ratio_matches(descriptors, b)
    if len(matches) < 4:
        return empty, empty
    src = points[[m.queryIdx for m in matches]]
    dst = b.points[[m.trainIdx for m in matches]]
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX, maxIters=2000, confidence=0.995)
    if H is None or mask is None or not plausible(H):
        return empty, empty
    keep = mask.ravel().astype(bool)
    src, dst = src[keep], dst[keep]
    _, unique = np.unique(np.round(src * 200), axis=0, return_index=True)  # repeated positions count once
    return src[unique], dst[unique]


def plausible(H: np.ndarray) -> bool:
    """A copy is turned, skewed, stretched or cropped; not flipped (the mirror image is tried on its own),
    squashed to a line or seen in steep perspective."""
    H = H / H[2, 2] if abs(H[2, 2]) > 1e-9 else H
    det = float(np.linalg.det(H[:2, :2]))
    return 1 / 16 < det < 16 and float(np.abs(H[2, :2]).max()) < 1.0


def spread(points: np.ndarray, size: tuple[float, float]) -> float:
    """How far the points reach across the photo: the smaller of their widths in x and in y (10th to 90th
    percentile) as a share of the photo's width and height. Copies and frames of one scene match all
    over; a watermark, a stock-photo banner or a logo that two different photos share matches in one
    strip or corner."""
    if len(points) < 5:
        return 0.0
    lo, hi = np.percentile(points, [10, 90], axis=0)
    return float(min((hi - lo) / np.asarray(size)))


def match(a: Keys, b: Keys) -> Match:
    """The better of a as it is and a mirrored against b (by inliers)."""
    src, dst = homography_inliers(a.points, a.descriptors, b)
    result = Match(len(src), False, src, dst)
    if a.mirror_points is not None and a.mirror_descriptors is not None:
        src, dst = homography_inliers(a.mirror_points, a.mirror_descriptors, b)
        if len(src) > result.inliers:
            result = Match(len(src), True, src, dst)
    result.spread = max(spread(result.src, a.size), spread(result.dst, b.size))  # the mirror has a's size
    return result


def init_keys(keys: dict[str, Keys]) -> None:
    global _KEYS
    _KEYS = keys
    cv2.setNumThreads(1)


def verify(task: tuple[str, list[str]]) -> list[tuple[int, bool, float]]:
    """(inliers, mirrored, spread) of one query against each of its targets (keys by id, see init_keys)."""
    query, targets = task
    out = []
    for target in targets:
        m = match(_KEYS[query], _KEYS[target])
        out.append((m.inliers, m.mirrored, m.spread))
    return out
