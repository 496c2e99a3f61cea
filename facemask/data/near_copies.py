"""Augmented copies of one photo: rotated a few degrees, skewed, stretched, cropped, mirrored, darkened.

A perceptual hash of the image as it is misses most such copies (public sets ship three or four of
each photo), so a split built on it leaks. Two stages find them:

1. candidates, from three searches: each photo's nearest neighbours by a small, brightness-normalised
   thumbnail, compared in all eight right-angle turns and mirrorings (squashing to a square also undoes
   a stretch); the photos that most of its strongest keypoints (and its mirror image's) point to in
   one index of all photos' keypoints, which finds zoomed crops and tilted copies with black corners
   that the thumbnail misses; and the photos next to it in its source's file names, in natural order
   (tools that export augmented copies, and frame grabbers, number them one after another: the
   tightly cropped copies in sergiovirahonda are found no other way);
2. verification: ORB keypoints of the two photos (and of the mirror image) matched with Lowe's ratio
   test, each way round, kept only when an affine RANSAC model explains enough of them, which a copy
   satisfies and two different photos of faces do not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

THUMB = 16  # thumbnail side: coarse enough that crops and turns of a few degrees barely change it
ORB_SIDE = 512  # keypoints are found on the photo scaled to this longest side
ORB_FEATURES = 400
RATIO = 0.8  # Lowe's ratio test
# Candidates per photo and search: sets hold 3-5 copies of a photo, plus frames of one scene. Measured on
# the three public sets against benchmarks/split_leak_check.py's pairs: 5 thumbnail neighbours group
# the copies as 10 do at a third fewer pairs; 20 chain look-alikes into groups of hundreds.
THUMB_NEIGHBOURS = 5
VOTE_NEIGHBOURS = 10
NAME_NEIGHBOURS = 2  # following file names of the same source
VOTE_FEATURES = 100  # strongest keypoints per photo in the vote index
MAX_VOTE_DISTANCE = 48  # Hamming bits (of 256) for a keypoint match to vote
MIN_VOTES = 2
#: Affine inliers that make two photos copies. On the three public sets, random pairs of different photos
#: reach 11 at the 99th percentile; pairs at 15-25 seen by eye were copies or the same person in the
#: same session, which belong in one split as well.
MIN_INLIERS = 15
MIN_SPREAD = 0.1  # inliers must reach across a tenth of the photo (a face on a plain wall: 0.1-0.15): _spread()
#: The ratio test is not symmetric: a tight crop keeps few of the full photo's keypoints distinct, so the
#: pair is matched the other way round too, when the first way found at least this many inliers (about
#: a third of the pairs: the rest are clearly different photos, and matching dominates the merge's time).
SECOND_LOOK = 5


@dataclass
class Fingerprint:
    """What the comparison needs of one photo (small enough to send between processes)."""

    thumbs: np.ndarray  # float32 (8, THUMB*THUMB): unit-norm, zero-mean thumbnails in the 8 orientations
    points: np.ndarray  # float32 (n, 2) keypoint positions in the scaled photo
    descriptors: np.ndarray  # uint8 (n, 32) ORB descriptors
    mirror_points: np.ndarray  # the same for the mirror image
    mirror_descriptors: np.ndarray
    size: tuple[int, int]  # width, height of the scaled photo the keypoints were found on


def fingerprint(image: Image.Image) -> Fingerprint:
    grey = np.asarray(image.convert("L"))
    scale = ORB_SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    thumb = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    turns = [np.rot90(t, k) for t in (thumb, thumb[:, ::-1]) for k in range(4)]
    thumbs = np.stack([_normalise(t.ravel()) for t in turns])
    points, descriptors = _orb(grey)
    mirror_points, mirror_descriptors = _orb(np.ascontiguousarray(grey[:, ::-1]))
    return Fingerprint(thumbs, points, descriptors, mirror_points, mirror_descriptors, (grey.shape[1], grey.shape[0]))


def _normalise(v: np.ndarray) -> np.ndarray:
    v = v - v.mean()  # brightness
    return v / (np.linalg.norm(v) + 1e-6)  # contrast


def _orb(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoint positions and descriptors, strongest first (the votes use the first VOTE_FEATURES)."""
    grey = cv2.equalizeHist(grey)  # darkened copies keep their corners
    keypoints, descriptors = cv2.ORB_create(nfeatures=ORB_FEATURES).detectAndCompute(grey, None)
    if descriptors is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    order = np.argsort([-k.response for k in keypoints], kind="stable")
    return np.array([keypoints[i].pt for i in order], np.float32), descriptors[order]


def candidate_pairs(prints: Sequence[Fingerprint], names: Sequence[tuple[str, str]] = ()) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, where j is among i's nearest photos by thumbnail or by keypoint votes, or
    next to it by (source, file name) in `names`, or the other way round; each pair once, sorted."""
    pairs = set(thumbnail_pairs(prints, THUMB_NEIGHBOURS)) | set(vote_pairs(prints, VOTE_NEIGHBOURS))
    return sorted(pairs | set(name_pairs(names, NAME_NEIGHBOURS)))


def name_pairs(names: Sequence[tuple[str, str]], k: int = NAME_NEIGHBOURS) -> Iterator[tuple[int, int]]:
    """Pairs (i, j), i < j, where j is one of the k photos after i in natural order of file names
    ('img9' before 'img10') within the same source."""
    order = sorted(range(len(names)), key=lambda i: (names[i][0], _natural(names[i][1])))
    for at, i in enumerate(order):
        for j in order[at + 1 : at + 1 + k]:
            if names[j][0] == names[i][0]:
                yield (min(i, j), max(i, j))


def _natural(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part]


def vote_pairs(prints: Sequence[Fingerprint], k: int = VOTE_NEIGHBOURS) -> Iterator[tuple[int, int]]:
    """Pairs (i, j) where j is among the k photos that most of i's strongest keypoints (or its mirror
    image's) match in an LSH index of every photo's strongest keypoints (at least MIN_VOTES)."""
    descriptors = [p.descriptors[:VOTE_FEATURES] for p in prints]
    owner = np.concatenate([np.full(len(d), i) for i, d in enumerate(descriptors)] or [np.zeros(0, int)])
    if len(owner) == 0:
        return
    # FLANN's LSH index for binary descriptors: 4 tables of 16-bit keys, no multi-probe (about 3 ms per
    # photo here; multi-probe finds little more at 40 times the cost).
    index = cv2.FlannBasedMatcher(dict(algorithm=6, table_number=4, key_size=16, multi_probe_level=0), dict(checks=16))
    index.add([np.concatenate(descriptors)])
    cv2.setRNGSeed(0)  # the LSH tables pick their key bits with OpenCV's RNG: unseeded, each run found other pairs
    index.train()
    for i, p in enumerate(prints):
        votes: dict[int, int] = {}
        for query in (p.descriptors[:VOTE_FEATURES], p.mirror_descriptors[:VOTE_FEATURES]):
            if len(query) == 0:
                continue
            for match in index.knnMatch(query, k=2):
                for m in match:
                    j = int(owner[m.trainIdx])
                    if j != i and m.distance <= MAX_VOTE_DISTANCE:
                        votes[j] = votes.get(j, 0) + 1
        best = sorted((-v, j) for j, v in votes.items() if v >= MIN_VOTES)[:k]
        for _, j in best:
            yield (min(i, j), max(i, j))


def thumbnail_pairs(
    prints: Sequence[Fingerprint], k: int = THUMB_NEIGHBOURS, chunk: int = 512
) -> Iterator[tuple[int, int]]:
    """Pairs (i, j), i < j, where j is among i's k most similar thumbnails in any orientation."""
    n = len(prints)
    if n < 2:
        return
    upright = np.stack([p.thumbs[0] for p in prints])  # (n, d)
    turned = np.stack([p.thumbs for p in prints])  # (n, 8, d)
    k = min(k, n - 1)
    seen: set[tuple[int, int]] = set()
    for start in range(0, n, chunk):
        block = turned[start : start + chunk]  # (m, 8, d)
        sim = (block.reshape(-1, block.shape[2]) @ upright.T).reshape(len(block), 8, n).max(axis=1)  # (m, n)
        rows = np.arange(len(sim))
        sim[rows, start + rows] = -np.inf
        nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        for r, js in enumerate(nearest):
            for j in js:
                pair = (min(start + r, int(j)), max(start + r, int(j)))
                if pair not in seen:
                    seen.add(pair)
                    yield pair


def inliers(a: Fingerprint, b: Fingerprint) -> int:
    """Keypoint matches between the photos that one affine map explains (the better of as-is and mirrored)."""
    return max(_affine_inliers(a.points, a.descriptors, b), _affine_inliers(a.mirror_points, a.mirror_descriptors, b))


_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


def _affine_inliers(points: np.ndarray, descriptors: np.ndarray, b: Fingerprint) -> int:
    if len(descriptors) < 3 or len(b.descriptors) < 3:
        return 0
    knn = _MATCHER.knnMatch(descriptors, b.descriptors, k=2)
    good = [p[0] for p in knn if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return 0
    src = points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    _, mask = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=8.0)
    if mask is None:
        return 0
    keep = mask.ravel().astype(bool)
    return int(keep.sum()) if _spread(dst[keep], b.size) >= MIN_SPREAD else 0


def _spread(points: np.ndarray, size: tuple[int, int]) -> float:
    """How far matched keypoints reach across a photo: the 10-90% range of their positions, as a share of
    its width or height, whichever is smaller. A shared watermark, logo or banner matches with many
    inliers crowded in one corner; a copy matches all over."""
    if len(points) < 2:
        return 0.0
    lo, hi = np.percentile(points, [10, 90], axis=0)
    return float(min((hi - lo) / np.maximum(size, 1)))


_PRINTS: Sequence[Fingerprint] = ()  # each worker's copy of the fingerprints, sent once at its start


def _init_worker(prints: Sequence[Fingerprint]) -> None:
    global _PRINTS
    _PRINTS = prints


def is_copy(a: Fingerprint, b: Fingerprint, min_inliers: int = MIN_INLIERS) -> bool:
    """Whether one affine map explains at least `min_inliers` keypoint matches, matched either way round."""
    first = inliers(a, b)
    return first >= min_inliers or (first >= SECOND_LOOK and inliers(b, a) >= min_inliers)


def _verify(pairs: list[tuple[int, int]], min_inliers: int) -> list[tuple[int, int]]:
    return [(i, j) for i, j in pairs if is_copy(_PRINTS[i], _PRINTS[j], min_inliers)]


def copy_pairs(
    prints: Sequence[Fingerprint],
    names: Sequence[tuple[str, str]] = (),
    min_inliers: int = MIN_INLIERS,
    workers: int = 1,
    progress: bool = False,
) -> list[tuple[int, int]]:
    """Verified pairs of copies among the candidates (`names`: each photo's source and file name, for
    the name neighbours), checked on `workers` processes."""
    pairs = candidate_pairs(prints, names)
    chunks = [pairs[i : i + 256] for i in range(0, len(pairs), 256)]
    bar = tqdm(total=len(pairs), desc="Matching copies", unit="pair", disable=not progress)
    found: list[tuple[int, int]] = []
    verify = functools.partial(_verify, min_inliers=min_inliers)
    if workers <= 1 or len(chunks) < 2:
        _init_worker(prints)
        results = map(verify, chunks)
    else:
        pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(prints,))
        results = pool.map(verify, chunks)
    try:
        for chunk, verified in zip(chunks, results, strict=True):
            found.extend(verified)
            bar.update(len(chunk))
    finally:
        bar.close()
        if workers > 1 and len(chunks) >= 2:
            pool.shutdown(cancel_futures=True)
    return found
