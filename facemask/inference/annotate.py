"""Drawing detections: class-coloured boxes and labels, and face blurring for privacy."""

from __future__ import annotations

import cv2
import numpy as np
import supervision as sv

from facemask.classes import INCORRECT, MASK, NO_MASK

#: Green for Mask, red for No Mask, orange for Incorrect; grey for anything else.
CLASS_COLOURS = {MASK: sv.Color(40, 200, 60), NO_MASK: sv.Color(230, 40, 40), INCORRECT: sv.Color(255, 150, 0)}
OTHER = sv.Color(160, 160, 160)


def palette(names: dict[int, str]) -> sv.ColorPalette:
    """A palette indexed by class id, so each class keeps its colour whatever the model's id order."""
    return sv.ColorPalette([CLASS_COLOURS.get(names.get(i, ""), OTHER) for i in range(max(names, default=0) + 1)])


class Annotator:
    def __init__(
        self,
        names: dict[int, str],
        line_thickness: int = 2,
        hide_labels: bool = False,
        hide_conf: bool = False,
        blur_faces: bool = False,
    ):
        colours = palette(names)
        self.names = names
        self.boxes = sv.BoxAnnotator(color=colours, thickness=line_thickness)
        self.labels = (
            None
            if hide_labels
            else sv.LabelAnnotator(
                color=colours, text_scale=0.4 + 0.1 * line_thickness, text_padding=4, smart_position=True
            )
        )
        self.hide_conf = hide_conf
        self.blur = sv.BlurAnnotator() if blur_faces else None  # kernel sized to each face

    def __call__(self, image: np.ndarray, detections: sv.Detections) -> np.ndarray:
        scene = image.copy()
        if self.blur is not None:
            scene = self.blur.annotate(scene, detections)
        scene = self.boxes.annotate(scene, detections)
        if self.labels is not None and len(detections):
            texts = [
                self.names[int(c)] if self.hide_conf else f"{self.names[int(c)]} {p:.2f}"
                for c, p in zip(detections.class_id, detections.confidence, strict=True)
            ]
            if detections.tracker_id is not None:  # -1: not (yet) in a confirmed track
                texts = [
                    f"#{t} {text}" if t >= 0 else text for t, text in zip(detections.tracker_id, texts, strict=True)
                ]
            scene = self.labels.annotate(scene, detections, texts)
        return scene


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
