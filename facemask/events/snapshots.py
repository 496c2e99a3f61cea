"""Snapshots: the best view of each unmasked person, saved with its event as a JPEG.

While a person is tracked, the part of the frame around their face is kept from the frame in which
the face was seen unmasked with the highest confidence (the face with a margin of `margin` face sizes
each side, so the picture shows where they were; a copy of that region only, not the frame). When the
person settles unmasked, it is written by a background thread, with every face in it blurred unless
`raw` (`--snapshots raw`); people who settle masked, or never count, are dropped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from facemask.classes import MASK
from facemask.errors import warn
from facemask.inference.annotate import blur_only

MAX_SIDE = 640  # a snapshot's longest side (pixels)


@dataclass
class View:
    """A region of one frame: the pixels, and every face's box in them."""

    score: float
    image: np.ndarray
    faces: np.ndarray  # xyxy in the region's pixels


class SnapshotKeeper:
    def __init__(self, folder: Path, raw: bool = False, margin: float = 1.5):
        self.folder, self.raw, self.margin = folder, raw, margin
        self._best: dict[tuple[object, int], View] = {}  # (counter, track id): best unmasked view so far
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshots")

    def look(self, counter: object, image: np.ndarray, detections: sv.Detections, names: dict[int, str]) -> None:
        """Keep a better view of each tracked face seen unmasked in this frame."""
        if detections.tracker_id is None:
            return
        for i in np.flatnonzero(detections.tracker_id >= 0):
            if names[int(detections.class_id[i])] == MASK:
                continue
            key, score = (counter, int(detections.tracker_id[i])), float(detections.confidence[i])
            if key not in self._best or score > self._best[key].score:
                self._best[key] = self._view(score, image, detections.xyxy, i)

    def _view(self, score: float, image: np.ndarray, boxes: np.ndarray, i: int) -> View:
        x1, y1, x2, y2 = boxes[i]
        pad = self.margin * max(x2 - x1, y2 - y1)
        h, w = image.shape[:2]
        left, top = int(max(0, x1 - pad)), int(max(0, y1 - pad))
        right, bottom = int(min(w, x2 + pad)), int(min(h, y2 + pad))
        inside = (boxes[:, 2] > left) & (boxes[:, 0] < right) & (boxes[:, 3] > top) & (boxes[:, 1] < bottom)
        faces = np.clip(boxes[inside] - [left, top, left, top], 0, [right - left, bottom - top] * 2)
        return View(score, image[top:bottom, left:right].copy(), faces)

    def forget(self, counter: object, tracks: set[int]) -> None:
        """Drop the views of a counter's tracks that are no longer followed (not in `tracks`)."""
        for key in [k for k in self._best if k[0] is counter and k[1] not in tracks]:
            del self._best[key]

    def take(self, counter: object, track_id: int, name: str) -> str | None:
        """The path a settled unmasked person's snapshot is being written to (None without a view)."""
        view = self._best.pop((counter, track_id), None)
        if view is None or view.image.size == 0:
            return None
        path = self.folder / datetime.now(timezone.utc).strftime("%Y-%m-%d") / f"{name}.jpg"
        self._saver.submit(self._save, view, path)
        return str(path)

    def _save(self, view: View, path: Path) -> None:
        image = view.image if self.raw else blur_only(view.image, sv.Detections(xyxy=view.faces.astype(float)))
        scale = MAX_SIDE / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            written = cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        except (OSError, cv2.error):
            written = False
        if not written:
            warn(f"could not write the snapshot {path}")

    def close(self) -> None:
        """Write the snapshots still being saved."""
        self._saver.shutdown(wait=True)
        self._best.clear()
