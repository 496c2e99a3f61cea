"""Image sharpness, for dropping blurry photos or faces (`prepare_data.py --blur-threshold`)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from facemask.geometry import as_boxes

BLUR_SCOPES = ("image", "faces")
_IMAGE_SIDE = 512  # the whole image is measured at this long side, so the score ignores resolution


def sharpness(image: Image.Image, boxes: np.ndarray | None = None) -> float:
    """Variance of the Laplacian: low means blurry. With `boxes`, the median over the face crops."""
    gray = np.asarray(image.convert("L"))
    if boxes is None:
        scale = _IMAGE_SIDE / max(gray.shape)
        if scale < 1:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return float(cv2.Laplacian(gray, cv2.CV_64F).var())
    scores = []
    for x1, y1, x2, y2 in as_boxes(boxes).round().astype(int):
        crop = gray[y1:y2, x1:x2]
        if crop.size >= 9:
            scores.append(cv2.Laplacian(crop, cv2.CV_64F).var())
    return float(np.median(scores)) if scores else 0.0
