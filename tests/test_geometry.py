"""Box geometry must be exact: a box moved by transpose_boxes covers the same pixels as the object
moved by PIL's transpose, for every flip and right-angle rotation (checked losslessly, in arrays)."""

import numpy as np
import pytest
from PIL import Image

from facemask.geometry import (
    EXIF_TRANSPOSE,
    ROTATIONS,
    big_enough,
    clamp_boxes,
    to_yolo,
    transpose_boxes,
    transposed_size,
)

T = Image.Transpose


def painted_bbox(image: Image.Image) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(np.asarray(image))
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@pytest.mark.parametrize("method", sorted(set(EXIF_TRANSPOSE.values()) | set(ROTATIONS.values())))
@pytest.mark.parametrize("box", [(3, 5, 11, 9), (0, 0, 1, 1), (20, 0, 37, 23), (36, 22, 37, 23)])
def test_transposed_box_covers_the_transposed_object(method: Image.Transpose, box) -> None:
    width, height = 37, 23  # odd, unequal sides catch off-by-one and swapped-axis mistakes
    a = np.zeros((height, width), np.uint8)
    x1, y1, x2, y2 = box
    a[y1:y2, x1:x2] = 255
    moved = Image.fromarray(a).transpose(method)
    assert moved.size == transposed_size(width, height, method)
    assert tuple(transpose_boxes(np.array([box]), width, height, method)[0]) == painted_bbox(moved)


def test_clamp_and_size_filter() -> None:
    boxes = clamp_boxes(np.array([[-5, -5, 10, 10], [95, 40, 130, 60], [120, 10, 140, 20], [30, 30, 31, 60]]), 100, 50)
    assert boxes.tolist() == [[0, 0, 10, 10], [95, 40, 100, 50], [100, 10, 100, 20], [30, 30, 31, 50]]
    assert big_enough(boxes, 2).tolist() == [True, True, False, False]


def test_to_yolo() -> None:
    assert to_yolo(np.array([[10, 20, 30, 60]]), 100, 200).tolist() == [[0.2, 0.2, 0.2, 0.2]]
