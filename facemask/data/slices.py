"""Sliced copies of crowd photos for training (issue #23): faces under 32 px shrink further when a large
photo is resized to the 512 px training size, so tiles of the photo at native resolution show them as
they are. The tile grid is sahi's (`sahi.slicing.get_slice_bboxes`, as sahi slices a dataset; sahi is
already what detect.py --tile infers with); which faces a tile keeps is decided here (`window_faces`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from sahi.slicing import get_slice_bboxes

from facemask.geometry import as_boxes, clamp_boxes, to_yolo

# A face less than this share inside a tile is a sliver at its edge: left out, not counted as cut.
SLIVER = 0.05


@dataclass
class SliceOptions:
    """Which photos are sliced and how; `size` comes from prepare_data.py --slices."""

    size: int = 512  # tile side in pixels, the training size: faces are seen at native resolution
    overlap: float = 0.2  # share of a tile shared with its neighbour (sahi's overlap ratio)
    min_faces: int = 5  # only crowd photos: a photo with fewer faces gains little from tiles
    min_visible: float = 0.6  # a face cut by a tile edge is kept, clipped, if this share of it is inside


@dataclass
class Slice:
    """One tile of a photo: its pixels and the faces inside it, in the tile's own pixel coordinates."""

    window: tuple[int, int, int, int]  # x1, y1, x2, y2 in the photo
    image: Image.Image
    boxes: np.ndarray  # (M, 4) x1, y1, x2, y2 within the tile
    class_ids: list[int]

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def labels(self) -> np.ndarray:
        """The boxes as YOLO rows, normalised to the tile: (M, 4) cx, cy, w, h."""
        return to_yolo(self.boxes, *self.size)


def slice_windows(width: int, height: int, opts: SliceOptions) -> list[tuple[int, int, int, int]]:
    """sahi's tile grid over a `width` x `height` photo; edge tiles are shifted inwards, not padded."""
    grid = get_slice_bboxes(
        image_height=height,
        image_width=width,
        slice_height=opts.size,
        slice_width=opts.size,
        auto_slice_resolution=False,
        overlap_height_ratio=opts.overlap,
        overlap_width_ratio=opts.overlap,
    )
    return [(int(x1), int(y1), int(x2), int(y2)) for x1, y1, x2, y2 in grid]


def window_faces(
    boxes: np.ndarray, window: tuple[int, int, int, int], min_visible: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Which faces (pixel boxes of the photo) a tile keeps, and those faces clipped and moved into its
    coordinates; None when the tile must be skipped.

    A face at least `min_visible` inside is kept, clipped to the tile. A face less than SLIVER inside is
    left out. A face in between makes the whole tile skipped rather than kept with that face unlabelled:
    a half-visible face without a box is a face the model is taught to call background, the opposite of
    what the tiles are for; its neighbouring tile, overlapping this one, usually holds it whole."""
    x1, y1, x2, y2 = window
    moved = as_boxes(boxes) - [x1, y1, x1, y1]
    clipped = clamp_boxes(moved, x2 - x1, y2 - y1)
    visible = _area(clipped) / np.maximum(_area(moved), 1e-9)
    if np.any((visible > SLIVER) & (visible < min_visible)):
        return None
    keep = visible >= min_visible
    return keep, clipped[keep]


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def slice_photo(
    image: Image.Image | np.ndarray, boxes: np.ndarray, class_ids: list[int], opts: SliceOptions
) -> list[Slice]:
    """The tiles of a crowd photo worth training on, given its YOLO boxes (normalised cx, cy, w, h) and
    their classes: none for a photo with fewer than `min_faces` faces or no larger than a tile; no tile
    that holds no face or cuts one (window_faces)."""
    im = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    width, height = im.size
    rows = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(rows) < opts.min_faces or max(width, height) <= opts.size:
        return []
    cx, cy, w, h = rows.T
    pixels = np.stack([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], 1)
    slices = []
    for window in slice_windows(width, height, opts):
        faces = window_faces(pixels, window, opts.min_visible)
        if faces is not None and faces[0].any():
            keep, inside = faces
            ids = [c for c, k in zip(class_ids, keep, strict=True) if k]
            slices.append(Slice(window, im.crop(window), inside, ids))
    return slices
