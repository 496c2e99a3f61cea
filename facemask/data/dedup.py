"""Near-duplicate photos: perceptual hashes and the groups they form.

A photo is hashed in its four right-angle rotations, so a rotated copy of a photo (which public sets
contain, and which this project itself makes) is recognised as the same photo.
"""

from __future__ import annotations

from collections.abc import Iterable

import imagehash
import numpy as np
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from facemask.geometry import ROTATIONS

_PHASH_INPUT = 32  # imagehash.phash(hash_size=8) looks at a 32x32 greyscale thumbnail


def rotation_hashes(image: Image.Image) -> np.ndarray:
    """64-bit pHash of the image at 0, 90, 180 and 270 degrees, as uint64[4].

    The thumbnail is made once and rotated, which is equivalent to rotating the full image first
    (the square thumbnail and a symmetric resampling filter commute with right-angle turns)."""
    thumb = image.convert("L").resize((_PHASH_INPUT, _PHASH_INPUT), Image.Resampling.LANCZOS)
    turns = [thumb] + [thumb.transpose(ROTATIONS[a]) for a in (90, 180, 270)]
    return np.array([_to_uint64(imagehash.phash(t)) for t in turns], dtype=np.uint64)


def _to_uint64(h: imagehash.ImageHash) -> int:
    return int(np.packbits(h.hash.flatten()).view(">u8")[0])


def min_distances(hashes: np.ndarray, i: int) -> np.ndarray:
    """Hamming distance from photo i (upright) to every photo in any of its rotations."""
    xor = np.bitwise_xor(hashes[:, :], hashes[i, 0])
    return np.bitwise_count(xor).min(axis=1)


def near_duplicate_groups(
    hashes: np.ndarray, max_distance: int, extra_pairs: Iterable[tuple[int, int]] = ()
) -> np.ndarray:
    """Group id per photo: photos within `max_distance` bits (in any rotation) share a group, as do
    `extra_pairs` (copies found otherwise), and so, transitively, do their near-duplicates."""
    hashes = np.asarray(hashes, dtype=np.uint64).reshape(-1, 4)
    n = len(hashes)
    extra = list(extra_pairs)
    rows, cols = [i for i, _ in extra], [j for _, j in extra]
    for i in range(n):
        close = np.nonzero(min_distances(hashes, i) <= max_distance)[0]
        close = close[close > i]
        rows.extend([i] * len(close))
        cols.extend(close.tolist())
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels
