"""The face finder of the negatives benchmark: OpenCV's Haar cascade detector in numpy (OpenCV 5 dropped
CascadeClassifier), to drop the crops of a "faceless" cut that still show a face. Face or not, it agreed
with OpenCV 4.12's detectMultiScale on all 80 crops and photos tried."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

from facemask.errors import FacemaskError

HAAR_DIRS = ("/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades")
HAAR_FILE = "haarcascade_frontalface_default.xml"
HAAR_SIDE = 640  # the face finder sees a crop reduced to this long side (faces from 24 px, 4% of it)


class HaarCascade:
    """OpenCV's Haar cascade detector (boosted stumps on upright Haar features, as in the frontal-face
    cascades) in numpy: OpenCV 5 dropped CascadeClassifier. Windows of the cascade's size slide over an
    image pyramid (every 2nd pixel below twice the size, then every pixel), each normalised by its
    contrast; a window passes a stage when its stumps' votes reach the stage's threshold, and a face is
    a group of at least `min_neighbors` + 1 similar windows that passed every stage (groupRectangles)."""

    def __init__(self, path: str | Path, scale_factor: float = 1.05, min_neighbors: int = 2):
        cascade = ET.parse(path).getroot().find("cascade")
        if cascade is None or cascade.findtext("featureType", "").strip() != "HAAR":
            raise FacemaskError(f"{path}: not an OpenCV Haar cascade")
        self.width, self.height = int(cascade.findtext("width")), int(cascade.findtext("height"))
        features = []
        for f in cascade.find("features"):
            if int(f.findtext("tilted", "0")):
                raise FacemaskError(f"{path}: tilted Haar features are not supported")
            rects = [[float(v) for v in r.text.split()] for r in f.find("rects")]
            features.append((rects + [[0, 0, 0, 0, 0]] * 3)[:3])  # padded to 3 rects (weight 0 adds nothing)
        features = np.array(features)  # (features, 3, 5): x, y, w, h, weight
        self.stages = []
        for stage in cascade.find("stages"):
            nodes, leaves = [], []
            for weak in stage.find("weakClassifiers"):
                node = weak.findtext("internalNodes").split()
                if len(node) != 4:
                    raise FacemaskError(f"{path}: only stump cascades are supported")
                nodes.append((int(node[2]), float(node[3])))
                leaves.append([float(v) for v in weak.findtext("leafValues").split()])
            index = np.array([n[0] for n in nodes])
            rects = features[index]
            self.stages.append(
                (
                    float(stage.findtext("stageThreshold")),
                    rects[..., :4].astype(np.int64),
                    rects[..., 4],
                    np.array([n[1] for n in nodes]),
                    np.array(leaves),
                )
            )
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors

    def windows(self, grey: np.ndarray) -> np.ndarray:
        """(n, 4) x, y, w, h of the windows (in `grey`'s pixels) that pass every stage."""
        found = []
        height, width = grey.shape
        scale = 1.0
        while round(self.width * scale) <= width and round(self.height * scale) <= height:
            size = (round(width / scale), round(height / scale))
            image = cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR_EXACT).astype(np.int64)
            step = 1 if scale >= 2 else 2
            x, y = self._scan(image, step)
            found.append(
                np.stack(
                    [x * scale, y * scale, np.full(len(x), self.width * scale), np.full(len(x), self.height * scale)],
                    axis=1,
                )
            )
            scale *= self.scale_factor
        return np.concatenate(found) if found else np.empty((0, 4))

    def _scan(self, image: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-left corners of the windows of one pyramid level that pass every stage."""
        rows, cols = image.shape
        if rows < self.height or cols < self.width:
            return np.empty(0, int), np.empty(0, int)
        total = np.zeros((rows + 1, cols + 1), np.int64)
        total[1:, 1:] = image.cumsum(0).cumsum(1)
        square = np.zeros_like(total)
        square[1:, 1:] = (image * image).cumsum(0).cumsum(1)
        total, square, stride = total.ravel(), square.ravel(), cols + 1
        ys, xs = np.mgrid[0 : rows - self.height + 1 : step, 0 : cols - self.width + 1 : step]
        at = (ys * stride + xs).ravel()

        def area(table: np.ndarray, at: np.ndarray, x, y, w, h) -> np.ndarray:  # rect sums, in windows at `at`
            corners = [y * stride + x, y * stride + x + w, (y + h) * stride + x, (y + h) * stride + x + w]
            a, b, c, d = (
                table[at[..., None, None] + np.asarray(k)[None]] if np.ndim(k) else table[at + k] for k in corners
            )
            return a - b - c + d

        # OpenCV normalises by the contrast of the window less its border, and skips windows of little contrast
        n = (self.width - 2) * (self.height - 2)
        inner = (1, 1, self.width - 2, self.height - 2)
        norm = n * area(square, at, *inner).astype(np.float64) - area(total, at, *inner).astype(np.float64) ** 2
        norm = np.sqrt(np.maximum(norm, 0))
        keep = (norm > 0) & (n < 0.1 * norm)
        at, norm = at[keep], norm[keep]
        for threshold, rects, weights, cuts, leaves in self.stages:
            value = (area(total, at, *(rects[..., i] for i in range(4))) * weights).sum(-1) / norm[:, None]
            votes = np.where(value < cuts, leaves[:, 0], leaves[:, 1]).sum(1)
            keep = votes >= threshold
            at, norm = at[keep], norm[keep]
            if not len(at):
                break
        return at % stride, at // stride

    def faces(self, grey: np.ndarray) -> int:
        """Groups of similar windows (OpenCV's groupRectangles, eps 0.2) with more than min_neighbors."""
        rects = self.windows(grey)
        if len(rects) <= self.min_neighbors:
            return 0
        if len(rects) > 3000:  # no need to group them to know that something face-like is all over it
            return 1
        x, y, w, h = rects.T
        delta = 0.2 * (np.minimum(w[:, None], w) + np.minimum(h[:, None], h)) * 0.5
        similar = np.ones((len(rects), len(rects)), bool)
        for v in (x, y, x + w, y + h):  # every side within delta of the other's
            similar &= np.abs(v[:, None] - v) <= delta
        label = np.arange(len(rects))  # connected components of the similarity graph
        while True:
            merged = np.where(similar, label[None, :], len(rects)).min(1)
            if np.array_equal(merged, label):
                break
            label = merged[merged]
        return int((np.bincount(label) > self.min_neighbors).sum())

    def finds_face(self, grey: np.ndarray) -> bool:
        scale = HAAR_SIDE / max(grey.shape)
        if scale < 1:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return self.faces(grey) > 0


def haar_path(choice: str | None) -> Path | None:
    """--haar: a file, 'none', or (not given) the frontal-face cascade of OpenCV 4 or Debian's opencv-data."""
    if choice is not None:
        if choice.lower() == "none":
            return None
        if not Path(choice).is_file():
            raise FacemaskError(f"--haar {choice}: no such file")
        return Path(choice)
    folders = [getattr(getattr(cv2, "data", None), "haarcascades", ""), *HAAR_DIRS]
    return next((Path(d) / HAAR_FILE for d in folders if d and (Path(d) / HAAR_FILE).is_file()), None)
