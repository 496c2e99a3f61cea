"""Box geometry in pixel coordinates: flips and right-angle rotations, clamping, YOLO conversion.

Boxes are float arrays of shape (N, 4) holding x1, y1, x2, y2 in continuous pixel coordinates, where
pixel column i covers [i, i + 1). In that convention every flip and right-angle rotation that PIL's
`Image.transpose` applies maps a box onto exactly the pixels the object moves to.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

T = Image.Transpose

#: Right-angle rotations (counter-clockwise, as PIL counts them) used for augmentation.
ROTATIONS = {90: T.ROTATE_90, 180: T.ROTATE_180, 270: T.ROTATE_270}

#: EXIF orientation tag -> the transpose that shows the photo upright (as ImageOps.exif_transpose).
EXIF_TRANSPOSE = {
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_270,
    7: T.TRANSVERSE,
    8: T.ROTATE_90,
}


def as_boxes(boxes) -> np.ndarray:
    """An (N, 4) float64 array, also for an empty list."""
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def transposed_size(width: int, height: int, method: Image.Transpose | None) -> tuple[int, int]:
    """Image size after `method`: right-angle turns and diagonal flips swap width and height."""
    swaps = method in (T.ROTATE_90, T.ROTATE_270, T.TRANSPOSE, T.TRANSVERSE)
    return (height, width) if swaps else (width, height)


def transpose_boxes(boxes: np.ndarray, width: int, height: int, method: Image.Transpose | None) -> np.ndarray:
    """Map boxes of a `width` x `height` image through the same transpose PIL applies to the image."""
    b = as_boxes(boxes)
    if method is None or len(b) == 0:
        return b.copy()
    x1, y1, x2, y2 = b.T
    w, h = width, height
    # Each corner (x, y) moves to a new point; the box is the min/max of its moved corners.
    maps = {
        T.FLIP_LEFT_RIGHT: lambda x, y: (w - x, y),
        T.FLIP_TOP_BOTTOM: lambda x, y: (x, h - y),
        T.ROTATE_90: lambda x, y: (y, w - x),
        T.ROTATE_180: lambda x, y: (w - x, h - y),
        T.ROTATE_270: lambda x, y: (h - y, x),
        T.TRANSPOSE: lambda x, y: (y, x),
        T.TRANSVERSE: lambda x, y: (h - y, w - x),
    }
    ax, ay = maps[method](x1, y1)
    bx, by = maps[method](x2, y2)
    return np.stack([np.minimum(ax, bx), np.minimum(ay, by), np.maximum(ax, bx), np.maximum(ay, by)], axis=1)


def clamp_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip boxes to the image and put corners in order."""
    b = as_boxes(boxes)
    x = np.clip(b[:, [0, 2]], 0, width)
    y = np.clip(b[:, [1, 3]], 0, height)
    return np.stack([x.min(1), y.min(1), x.max(1), y.max(1)], axis=1)


def big_enough(boxes: np.ndarray, min_size: float) -> np.ndarray:
    """Mask of boxes whose width and height are at least `min_size` pixels (and not degenerate)."""
    b = as_boxes(boxes)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return (w >= max(min_size, 1e-6)) & (h >= max(min_size, 1e-6))


def to_yolo(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel x1y1x2y2 -> normalised cx, cy, w, h."""
    b = as_boxes(boxes)
    return np.stack(
        [
            (b[:, 0] + b[:, 2]) / 2 / width,
            (b[:, 1] + b[:, 3]) / 2 / height,
            (b[:, 2] - b[:, 0]) / width,
            (b[:, 3] - b[:, 1]) / height,
        ],
        axis=1,
    )
