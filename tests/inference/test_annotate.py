"""The drawn picture as a viewer reads it: in a crowd of small faces no label or legend hides a face, text
stays about the size of the face it names, a close-up still gets a readable label, and confidences give way
to room when a crowd has none for them. Faces are solid squares (tests/conftest.py), so a hidden face shows
as changed pixels inside its box."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from facemask.classes import MASK, NO_MASK
from facemask.inference.annotate import CLASS_COLOURS, Annotator, Label
from tests.conftest import MASK_RGB, NO_MASK_RGB, background, draw_faces

NAMES = {0: MASK, 1: NO_MASK}
FACE_RGB = {0: MASK_RGB, 1: NO_MASK_RGB}


def grid(cols: int, rows: int, face: tuple[int, int], gap: tuple[int, int], origin: tuple[int, int]) -> np.ndarray:
    """Boxes of faces side by side in rows, like a queue seen from the front."""
    (w, h), (gx, gy), (x0, y0) = face, gap, origin
    corners = [(x0 + c * (w + gx), y0 + r * (h + gy)) for r in range(rows) for c in range(cols)]
    return np.array([[x, y, x + w, y + h] for x, y in corners], dtype=float)


def scene(boxes: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, sv.Detections]:
    """A picture of these faces (classes alternating) and the detections of them."""
    classes = np.arange(len(boxes)) % 2
    faces = [(FACE_RGB[int(c)], tuple(int(v) for v in b)) for c, b in zip(classes, boxes, strict=True)]
    image = np.asarray(draw_faces(background(3, size), faces)).copy()
    confidence = np.linspace(0.9, 0.5, len(boxes))
    return image, sv.Detections(xyxy=boxes, class_id=classes, confidence=confidence)


def overlaps(a: tuple[int, int, int, int], b: np.ndarray) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def hidden_faces(before: np.ndarray, after: np.ndarray, boxes: np.ndarray) -> list[int]:
    """Faces with any pixel changed inside their outline (the 2 px a box line may take excepted)."""
    inner = boxes.astype(int) + np.array([2, 2, -2, -2])
    return [i for i, (x1, y1, x2, y2) in enumerate(inner) if (before[y1:y2, x1:x2] != after[y1:y2, x1:x2]).any()]


def assert_no_label_covers_a_face(labels: list[Label | None], boxes: np.ndarray) -> None:
    for i, label in enumerate(labels):
        if label is not None:
            others = [j for j in range(len(boxes)) if j != i and overlaps(label.xyxy, boxes[j])]
            assert not others, (label, others)


def test_a_tight_crowd_keeps_every_face_visible() -> None:
    """A 400x225 street photo with rows of 20x24 px faces 6 px apart: no room for text between rows."""
    boxes = grid(11, 5, (20, 24), (6, 6), (40, 40))
    image, found = scene(boxes, (400, 225))
    labels = Annotator(NAMES).layout(image.shape, found)
    drawn = Annotator(NAMES)(image, found)
    assert hidden_faces(image, drawn, boxes) == []  # no label, nor the legend, hides a face
    assert_no_label_covers_a_face(labels, boxes)
    assert sum(label is not None for label in labels[:11]) >= 6  # the top row named, above its faces ...
    assert any(label is None for label in labels)  # ... those between rows keep a coloured box ...
    outside = np.ones(image.shape[:2], bool)
    for x1, y1, x2, y2 in [*(boxes.astype(int) + np.array([-3, -3, 3, 3])), *(lb.xyxy for lb in labels if lb)]:
        outside[y1:y2, x1:x2] = False
    for colour in CLASS_COLOURS[MASK], CLASS_COLOURS[NO_MASK]:  # ... and a legend away from the faces
        assert (drawn[outside] == colour.as_bgr()).all(axis=1).sum() >= 16


def test_labels_go_below_where_above_is_taken() -> None:
    """Faces at the picture's top edge are named below; the row behind them, whose room above that took,
    below too: every face named and none covered."""
    boxes = grid(6, 2, (36, 40), (40, 20), (20, 2))
    image, found = scene(boxes, (480, 320))
    drawn, layout = Annotator(NAMES)(image, found), Annotator(NAMES).layout(image.shape, found)
    assert hidden_faces(image, drawn, boxes) == []
    assert_no_label_covers_a_face(layout, boxes)
    assert all(label is not None and label.xyxy[1] >= y2 for label, (_, _, _, y2) in zip(layout, boxes, strict=True))


@pytest.mark.parametrize("face_h", [24, 32, 48])
def test_text_is_no_taller_than_a_small_face(face_h: int) -> None:
    boxes = grid(4, 2, (face_h, face_h), (60, 60), (30, 40))
    image, found = scene(boxes, (640, 360))
    labels = Annotator(NAMES).layout(image.shape, found)
    assert all(label is not None for label in labels)  # room for every label: each is drawn ...
    for label, (_, y1, _, y2) in zip(labels, boxes, strict=True):
        assert label.xyxy[3] - label.xyxy[1] <= y2 - y1  # ... its background no taller than its face
        assert label.text.startswith(NAMES[label.class_id]) and " 0." in label.text  # confidence: room for it


def test_a_face_too_small_to_name_gets_a_box_and_the_legend() -> None:
    boxes = np.array([[100.0, 100, 112, 114], [200, 60, 260, 130]])
    image, found = scene(boxes, (400, 225))
    labels = Annotator(NAMES).layout(image.shape, found)
    assert labels[0] is None and labels[1] is not None
    drawn = Annotator(NAMES)(image, found)
    x1, y1, _, y2 = boxes[0].astype(int)
    assert (drawn[y1:y2, x1] == CLASS_COLOURS[MASK].as_bgr()).all()  # its outline is drawn
    assert hidden_faces(image, drawn, boxes) == []


@pytest.mark.parametrize("top", [40, 0])  # room above it, or none: a face filling the picture's height
def test_a_portrait_gets_a_readable_label(top: int) -> None:
    boxes = np.array([[170.0, top, 470, 480]])
    image, found = scene(boxes, (640, 480))
    (label,) = Annotator(NAMES).layout(image.shape, found)
    assert label is not None and label.text == "Mask 0.90"
    assert label.xyxy[3] - label.xyxy[1] >= 16  # text about 12 px tall, padding included
    drawn = Annotator(NAMES)(image, found)
    x1, y1, x2, y2 = label.xyxy
    assert (drawn[y1:y2, x1:x2] == CLASS_COLOURS[MASK].as_bgr()).all(axis=2).mean() > 0.5  # drawn there
    assert (drawn[y1:y2, x1:x2] == (255, 255, 255)).all(axis=2).any()  # with white text on it
    assert y2 - top <= (480 - top) / 3  # inside the box at most its top third


def test_a_crowd_drops_confidences_for_every_face() -> None:
    """Two rows with room above each for "No Mask" but not for "No Mask 0.70": every label without its
    confidence, so they read alike."""
    boxes = grid(6, 2, (40, 40), (12, 18), (10, 20))
    image, found = scene(boxes, (340, 121))
    roomy = scene(grid(3, 1, (40, 40), (90, 0), (20, 60)), (400, 225))
    crowded = Annotator(NAMES).layout(image.shape, found)
    assert all(label is not None and label.text == NAMES[label.class_id] for label in crowded)
    assert all(" 0." in label.text for label in Annotator(NAMES).layout(roomy[0].shape, roomy[1]))
    hidden = Annotator(NAMES, hide_conf=True).layout(roomy[0].shape, roomy[1])  # --hide-conf: never
    assert all(label.text == NAMES[label.class_id] for label in hidden)


def test_hide_labels_draws_boxes_only_and_tracks_keep_their_ids() -> None:
    boxes = grid(3, 1, (40, 40), (90, 0), (20, 60))
    image, found = scene(boxes, (400, 225))
    drawn = Annotator(NAMES, hide_labels=True)(image, found)
    changed = (drawn != image).any(axis=2)
    near = np.zeros_like(changed)
    for x1, y1, x2, y2 in boxes.astype(int):
        near[y1 - 2 : y2 + 3, x1 - 2 : x2 + 3] = True
    assert changed.any() and not changed[~near].any()  # outlines, nothing else
    found.tracker_id = np.array([7, -1, 12])
    texts = [label.text for label in Annotator(NAMES, hide_conf=True).layout(image.shape, found)]
    assert texts == ["#7 Mask", "No Mask", "#12 Mask"]  # -1: not yet a confirmed track
