"""What the leak check knows of each photo: a global CNN embedding (the COCO-pretrained YOLOv5n backbone,
GeM-pooled at four depths, of the photo squashed to a square and brightness-normalised) and SIFT
keypoints on CLAHE-equalised greyscale; for a query photo, of its mirror image too. Computed once per
photo in worker processes (`describe`, after `init_backbone`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemask.data.leak_check_photos import augment, mirrored, read_bgr
from facemask.images import UnreadableImage

EMBED_SIDE = 256  # the CNN sees the photo squashed to this square (which also undoes a stretch)
EMBED_LAYERS = (4, 6, 8, 9)  # backbone outputs pooled into the embedding (strides 8, 16, 32 and SPPF)
GEM_POWER = 3.0  # generalised-mean pooling: between average (1) and max
MEAN_LUMA = 115.0  # brightness the CNN input is scaled to, so darkened copies embed alike
SIFT_SIDE = 640  # keypoints are found on the photo scaled down to this longest side
SIFT_FEATURES = 600

_BACKBONE: Any = None  # each worker's copy of the backbone
_SIFT: Any = None
_CLAHE: Any = None


def init_backbone(weights: str) -> None:
    """Load the backbone (layers 0-9 of the detector) once per process, on one thread."""
    global _BACKBONE
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    _BACKBONE = YOLO(weights).model.model[: max(EMBED_LAYERS) + 1].eval()


def embed(images: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-norm embeddings (len(images), D) of BGR images."""
    import torch

    batch = []
    for bgr in images:
        square = cv2.resize(bgr, (EMBED_SIDE, EMBED_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        luma = float(cv2.cvtColor(square, cv2.COLOR_BGR2GRAY).mean())
        square *= min(4.0, MEAN_LUMA / max(luma, 1.0))  # brightness
        batch.append(np.clip(square[:, :, ::-1], 0, 255).transpose(2, 0, 1) / 255.0)  # RGB, CHW
    x = torch.from_numpy(np.stack(batch).astype(np.float32))
    pooled = []
    with torch.inference_mode():
        for i, layer in enumerate(_BACKBONE):
            x = layer(x)  # layers 0-9 of YOLOv5 each take the previous layer's output
            if i in EMBED_LAYERS:
                gem = x.clamp(min=1e-6).pow(GEM_POWER).mean(dim=(2, 3)).pow(1 / GEM_POWER)
                pooled.append(torch.nn.functional.normalize(gem, dim=1))
    e = torch.cat(pooled, dim=1).numpy()
    return e / np.linalg.norm(e, axis=1, keepdims=True)


@dataclass
class Keys:
    """SIFT keypoints of one photo (and of its mirror image, for a query), small enough to send around."""

    size: tuple[float, float]  # (width, height) / longest side
    points: np.ndarray  # float32 (n, 2), in units of the longest side
    descriptors: np.ndarray  # uint8 (n, 128) (OpenCV's SIFT values are whole numbers 0-255)
    mirror_points: np.ndarray | None = None
    mirror_descriptors: np.ndarray | None = None


def sift(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (in units of the longest side) and descriptors of a greyscale image, equalised first so
    that darkened copies match too."""
    global _SIFT, _CLAHE
    if _SIFT is None:
        _SIFT = cv2.SIFT_create(nfeatures=SIFT_FEATURES)
        _CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    keypoints, descriptors = _SIFT.detectAndCompute(_CLAHE.apply(grey), None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8)
    points = np.array([k.pt for k in keypoints], np.float32) / max(grey.shape)
    return points, np.clip(descriptors, 0, 255).astype(np.uint8)


def keys_of(bgr: np.ndarray, mirror: bool) -> Keys:
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    scale = SIFT_SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = grey.shape
    keys = Keys((w / max(h, w), h / max(h, w)), *sift(grey))
    if mirror:
        keys.mirror_points, keys.mirror_descriptors = sift(mirrored(grey))
    return keys


@dataclass
class Photo:
    """What the check needs of one photo."""

    embedding: np.ndarray  # (1, D) for a train photo, (2, D) for a query: as it is and mirrored
    keys: Keys


def describe(task: tuple[Path, str, int]) -> tuple[Photo | None, str]:
    """Embedding and keypoints of a train photo, of a query (as it is and mirrored) or of a synthetic
    augmented copy of a query made with the seed (described as a train photo), and what was done to it;
    (None, why) for a photo that does not decode."""
    path, role, seed = task
    try:
        bgr = read_bgr(path)
    except UnreadableImage as e:
        return None, str(e)
    if role == "synthetic":
        copy, notes = augment(bgr, np.random.default_rng(seed))
        return Photo(embed([copy]), keys_of(copy, mirror=False)), notes
    query = role == "query"
    return Photo(embed([bgr, mirrored(bgr)] if query else [bgr]), keys_of(bgr, mirror=query)), ""
