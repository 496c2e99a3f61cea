"""The photos the leak check compares: a merged dataset's split folders without the merge's turned
copies, read as BGR by the one image reader, mirrored, and augmented as public sets augment them (the
synthetic copies that measure the check's recall)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facemask.data.dataset_files import ROTATED_COPY
from facemask.data.sources import IMAGE_SUFFIXES
from facemask.errors import FacemaskError
from facemask.images import load_image


class LeakCheckError(FacemaskError, ValueError):
    """A dataset the leak check cannot compare: no split folder, or nothing in it."""


def is_turned_copy(path: Path) -> bool:
    """A right-angle copy the merge made of a train photo: its original is in the split too."""
    return bool(ROTATED_COPY.match(Path(path).stem))


def list_photos(folder: Path) -> list[Path]:
    """Photos of one split folder, sorted, without the merge's turned copies."""
    if not folder.is_dir():
        raise LeakCheckError(f"{folder} is not a folder: give --data a merged dataset's root (images/<split>/)")
    return sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and not is_turned_copy(f))


def read_bgr(path: Path) -> np.ndarray:
    """The photo upright, as OpenCV takes it; UnreadableImage when it does not decode."""
    return cv2.cvtColor(np.asarray(load_image(path).image), cv2.COLOR_RGB2BGR)


def mirrored(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(bgr[:, ::-1])


def augment(bgr: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """An augmented copy as public sets make them: perhaps mirrored, turned a few degrees, skewed, cropped
    (zoomed in), stretched, darkened (gain or gamma) or brightened, colours shifted a little, re-encoded;
    and what was done, in words."""
    h, w = bgr.shape[:2]
    notes = []
    if rng.random() < 0.5:
        bgr = mirrored(bgr)
        notes.append("mirror")
    angle = float(rng.uniform(2, 12) * rng.choice([-1, 1]))
    shear = float(rng.uniform(-0.15, 0.15))
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    skew = np.array([[1, shear, -shear * h / 2], [0, 1, 0], [0, 0, 1]], np.float64)
    border = cv2.BORDER_REFLECT if rng.random() < 0.3 else cv2.BORDER_CONSTANT  # black corners, mostly
    bgr = cv2.warpAffine(bgr, rot @ skew, (w, h), flags=cv2.INTER_LINEAR, borderMode=border)
    left, top, right, bottom = rng.uniform(0, 0.2, 4)
    bgr = bgr[int(top * h) : h - int(bottom * h), int(left * w) : w - int(right * w)]
    sx, sy = rng.uniform(0.75, 1.25, 2)
    bgr = cv2.resize(bgr, (max(32, int(bgr.shape[1] * sx)), max(32, int(bgr.shape[0] * sy))))
    notes += [f"{angle:+.0f}deg", f"shear {shear:+.2f}", f"crop {max(left, top, right, bottom):.2f}"]
    notes.append(f"stretch {sx:.2f}x{sy:.2f}")
    bgr, light = _relit(bgr, rng)
    quality = int(rng.integers(60, 92))
    bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    return bgr, ", ".join([*notes, light])


def _relit(bgr: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Darkened (gain or gamma) or brightened, perhaps with less or more saturation and a colour cast."""
    x = bgr.astype(np.float32) / 255
    if rng.random() < 0.4:
        gamma = float(rng.uniform(1.3, 2.2))
        x, light = x**gamma, f"gamma {gamma:.1f}"
    else:
        gain = float(rng.uniform(0.3, 0.8) if rng.random() < 0.8 else rng.uniform(1.1, 1.4))
        x, light = x * gain, f"gain {gain:.2f}"
    if rng.random() < 0.5:
        grey = x.mean(axis=2, keepdims=True)
        x = (grey + (x - grey) * rng.uniform(0.7, 1.3)) * rng.uniform(0.9, 1.1, 3)
        light += ", colour"
    return np.clip(x * 255, 0, 255).astype(np.uint8), light
