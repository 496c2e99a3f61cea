"""Drawing detections: class-coloured boxes and labels sized to each face, and face blurring for privacy.

In a crowd a fixed-size label ("No Mask 0.68") is larger than the faces it names and hides the neighbours,
so sizes follow the face and the picture, and each label is put where it covers no other face: above its
box, else below, else (a close-up against the picture's edge) inside its top. A picture where some label
finds no such place drops the confidences (like YOLOv5's --hide-conf) for every face, so the labels read
alike and take less room; a face that still has no place, or is too small for readable text, keeps its
coloured box, and a legend in a free corner says what the colours mean."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv

from facemask.classes import INCORRECT, MASK, NO_MASK

#: Green for Mask, red for No Mask, orange for Incorrect; grey for anything else.
CLASS_COLOURS = {MASK: sv.Color(40, 200, 60), NO_MASK: sv.Color(230, 40, 40), INCORRECT: sv.Color(255, 150, 0)}
OTHER = sv.Color(160, 160, 160)
WHITE = (255, 255, 255)

FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_TEXT_PX = 8  # Hershey text shorter than this no longer reads: such faces get a box and the legend
FACE_SHARE = 0.35  # a label's text at most this share of its face's height, so it never dwarfs the face
IMAGE_SHARE = 1 / 40  # ... and of the picture's short side, so a close-up portrait's label stays modest
FACE_PX_PER_LINE = 20  # a box line 1 px thick per this many pixels of the face's short side
LEGEND_SHARE = 1 / 50  # legend text height as a share of the picture's short side (at least MIN_TEXT_PX)


def palette(names: dict[int, str]) -> sv.ColorPalette:
    """A palette indexed by class id, so each class keeps its colour whatever the model's id order."""
    return sv.ColorPalette([CLASS_COLOURS.get(names.get(i, ""), OTHER) for i in range(max(names, default=0) + 1)])


@dataclass(frozen=True)
class Label:
    """A label as drawn: its text and font, and the pixels [x1, x2) x [y1, y2) its background fills."""

    text: str
    xyxy: tuple[int, int, int, int]
    scale: float
    thickness: int
    class_id: int


def text_px(face_h: float, image_short: int) -> int:
    """How tall a face's label text is drawn; 0 when it would be too small to read."""
    px = min(face_h * FACE_SHARE, max(MIN_TEXT_PX, image_short * IMAGE_SHARE))
    return round(px) if px >= MIN_TEXT_PX else 0


def box_thickness(xyxy: np.ndarray, most: int) -> np.ndarray:
    """Box line widths: thin on small faces so the outline does not fill them, at most `most`."""
    short = np.minimum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
    return np.clip(np.round(short / FACE_PX_PER_LINE), 1, most).astype(int)


def text_box(text: str, px: int) -> tuple[int, int, float, int]:
    """Width and height of the label background for `text` at `px` tall, with its font scale and stroke."""
    scale = px / cv2.getTextSize("M", FONT, 1.0, 1)[0][1]
    stroke = 1 if px < 20 else 2
    (w, h), base = cv2.getTextSize(text, FONT, scale, stroke)
    pad = max(1, round(px / 5))
    return w + 2 * pad, h + base + 2 * pad, scale, stroke


def spots(box: np.ndarray, w: int, h: int, line: int) -> list[tuple[int, int, int, int]]:
    """Where a w x h label may go, best first: just above the box's line, below it, then inside its top if
    that hides no more than the face's top third (a close-up against the picture's edge)."""
    x1, y1, x2, y2 = math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])
    tops = [y1 - line - h, y2 + line, *([y1 + line] if 3 * h <= y2 - y1 else [])]
    return [(x, y, x + w, y + h) for y in tops for x in (x1, x2 - w)]


def outlines(xyxy: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Faces with the lines drawn round them (`lines` px wide): what no label or legend may cover."""
    return xyxy + lines[:, None] * np.array([-1, -1, 1, 1])


def fits(rect: tuple[int, int, int, int], blocked: np.ndarray, width: int, height: int) -> bool:
    """Inside the picture and overlapping none of the blocked rectangles (faces and labels placed)."""
    x1, y1, x2, y2 = rect
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        return False
    b = blocked
    return not np.any((x1 < b[:, 2]) & (b[:, 0] < x2) & (y1 < b[:, 3]) & (b[:, 1] < y2))


def text_sizes(detections: sv.Detections, shape: tuple[int, ...]) -> list[int]:
    """Each face's label text height (text_px), from its height and the picture's short side."""
    return [text_px(y2 - y1, min(shape[:2])) for _, y1, _, y2 in detections.xyxy]


def place_labels(
    texts: list[str], detections: sv.Detections, shape: tuple[int, ...], lines: np.ndarray
) -> list[Label | None]:
    """Each face's label where it covers no other face (nor the `lines` round them) nor a label placed
    before it (most confident first); None for a face too small for text or with no such place."""
    height, width = shape[:2]
    faces = outlines(detections.xyxy, lines)
    placed: list[Label | None] = [None] * len(texts)
    taken: list[tuple[int, int, int, int]] = []
    confidence = detections.confidence if detections.confidence is not None else np.zeros(len(detections))
    for i, px in sorted(enumerate(text_sizes(detections, shape)), key=lambda item: -confidence[item[0]]):
        if not px:
            continue
        w, h, scale, stroke = text_box(texts[i], px)
        blocked = np.vstack([np.delete(faces, i, axis=0), np.array(taken).reshape(-1, 4)])
        free = (r for r in spots(detections.xyxy[i], w, h, int(lines[i])) if fits(r, blocked, width, height))
        spot = next(free, None)
        if spot is not None:
            taken.append(spot)
            placed[i] = Label(texts[i], spot, scale, stroke, int(detections.class_id[i]))
    return placed


def draw_label(scene: np.ndarray, label: Label, colour: sv.Color) -> None:
    """A filled background in the class colour with white text on it."""
    x1, y1, x2, y2 = label.xyxy
    cv2.rectangle(scene, (x1, y1), (x2 - 1, y2 - 1), colour.as_bgr(), -1)
    (_, h), base = cv2.getTextSize(label.text, FONT, label.scale, label.thickness)
    pad = (y2 - y1 - h - base) // 2
    cv2.putText(scene, label.text, (x1 + pad, y1 + pad + h), FONT, label.scale, WHITE, label.thickness, cv2.LINE_AA)


def draw_legend(scene: np.ndarray, names: list[str], colours: list[sv.Color], blocked: np.ndarray) -> None:
    """A key from colour to class in the first free corner (top right first: the tally takes top left);
    nothing when every corner would cover a face or a label."""
    height, width = scene.shape[:2]
    px = max(MIN_TEXT_PX, round(min(height, width) * LEGEND_SHARE))
    boxes = [text_box(name, px) for name in names]
    w, row = max(b[0] for b in boxes) + boxes[0][1], boxes[0][1]  # a square swatch, then the name
    h = row * len(names)
    for x, y in ((width - w - 2, 2), (width - w - 2, height - h - 2), (2, height - h - 2), (2, 2)):
        if fits((x, y, x + w, y + h), blocked, width, height):
            for k, (name, colour) in enumerate(zip(names, colours, strict=True)):
                top = y + k * row
                cv2.rectangle(scene, (x, top), (x + w - 1, top + row - 1), (0, 0, 0), -1)
                cv2.rectangle(scene, (x + 2, top + 2), (x + row - 3, top + row - 3), colour.as_bgr(), -1)
                _, _, scale, stroke = boxes[k]
                draw_label(scene, Label(name, (x + row, top, x + w, top + row), scale, stroke, -1), sv.Color.BLACK)
            return


class Annotator:
    """Boxes, labels and (optionally) blurred faces on a copy of a frame. `line_thickness` is the widest box
    line (small faces get thinner ones); `hide_labels` draws boxes only; `hide_conf` never shows
    confidences (by default they are shown unless a crowd leaves no room for them)."""

    def __init__(
        self,
        names: dict[int, str],
        line_thickness: int = 2,
        hide_labels: bool = False,
        hide_conf: bool = False,
        blur_faces: bool = False,
    ):
        self.names = names
        self.colours = palette(names)
        self.line_thickness = line_thickness
        self.boxes: dict[int, sv.BoxAnnotator] = {}  # by line width
        self.hide_labels = hide_labels
        self.hide_conf = hide_conf
        self.blur = sv.BlurAnnotator() if blur_faces else None  # kernel sized to each face

    def __call__(self, image: np.ndarray, detections: sv.Detections) -> np.ndarray:
        scene = image.copy()
        if self.blur is not None:
            scene = self.blur.annotate(scene, detections)
        self.draw_boxes(scene, detections)
        if not self.hide_labels and len(detections):
            self.draw_labels(scene, detections)
        return scene

    def draw_labels(self, scene: np.ndarray, detections: sv.Detections) -> None:
        """The labels as laid out, and the legend of the classes of faces left with a box only."""
        labels = self.layout(scene.shape, detections)
        lines = box_thickness(detections.xyxy, self.line_thickness)
        for label in labels:
            if label is not None:
                draw_label(scene, label, self.colours.by_idx(label.class_id))
        unlabelled = sorted({int(c) for c, label in zip(detections.class_id, labels, strict=True) if not label})
        if unlabelled:
            blocked = np.vstack([outlines(detections.xyxy, lines), *[np.array([lb.xyxy]) for lb in labels if lb]])
            names = [self.names[c] for c in unlabelled]
            draw_legend(scene, names, [self.colours.by_idx(c) for c in unlabelled], blocked)

    def draw_boxes(self, scene: np.ndarray, detections: sv.Detections) -> None:
        """Each face's outline in its class colour, as thick as the face allows."""
        widths = box_thickness(detections.xyxy, self.line_thickness)
        for width in np.unique(widths):
            boxes = self.boxes.setdefault(int(width), sv.BoxAnnotator(color=self.colours, thickness=int(width)))
            boxes.annotate(scene, detections[widths == width])

    def layout(self, shape: tuple[int, ...], detections: sv.Detections) -> list[Label | None]:
        """The labels as they will be drawn, one per face (None: box only). With confidences if every
        face big enough for text then finds room for its label, else without them for every face."""
        names = [self.names[int(c)] for c in detections.class_id]
        if detections.tracker_id is not None:  # -1: not (yet) in a confirmed track
            names = [f"#{t} {n}" if t >= 0 else n for t, n in zip(detections.tracker_id, names, strict=True)]
        lines = box_thickness(detections.xyxy, self.line_thickness)
        if not self.hide_conf and detections.confidence is not None:
            with_conf = [f"{n} {p:.2f}" for n, p in zip(names, detections.confidence, strict=True)]
            labels = place_labels(with_conf, detections, shape, lines)
            if all(label or not px for label, px in zip(labels, text_sizes(detections, shape), strict=True)):
                return labels
        return place_labels(names, detections, shape, lines)


def draw_zone(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The counting line or zone, in yellow."""
    pts = points.round().astype(np.int32).reshape(-1, 1, 2)
    return cv2.polylines(image, [pts], isClosed=len(points) > 2, color=(0, 220, 255), thickness=2)


def draw_tally(image: np.ndarray, text: str) -> np.ndarray:
    """A running tally in the top-left corner, white on black so it reads on any frame."""
    scale = max(0.5, image.shape[1] / 1400)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.rectangle(image, (0, 0), (w + 16, h + base + 16), (0, 0, 0), -1)
    cv2.putText(image, text, (8, h + 8), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA)
    return image


def blur_only(image: np.ndarray, detections: sv.Detections) -> np.ndarray:
    """The faces blurred, nothing drawn: for crops and outputs that must not identify anyone."""
    return sv.BlurAnnotator().annotate(image.copy(), detections)
