"""Test videos for people who have none: slow pans across photos, so that faces move as in real footage.
Used by the video benchmarks (track_throughput, track_memory, multi_camera)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import cv2
import numpy as np

from facemask.errors import FacemaskError

PHOTO_SUFFIXES = (".jpg", ".png")


def photos_in(folder: Path) -> list[Path]:
    """The .jpg and .png photos of `folder`, sorted; a FacemaskError when there are none."""
    folder = Path(folder)
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES) if folder.is_dir() else []
    if not found:
        raise FacemaskError(f"no .jpg or .png photos in {folder}")
    return found


def photo_clip(folder: Path, path: Path, seconds: int = 10, fps: int = 25, size: tuple[int, int] = (960, 540)) -> Path:
    """A `seconds` long video at `fps` and `size`: a slow pan across each photo of `folder` in turn."""
    photos = [cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))]
    if not photos:
        raise FacemaskError(f"no .jpg or .png photos in {folder}")
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    frames = seconds * fps
    per_photo = max(1, frames // len(photos))
    for i in range(frames):
        photo = photos[i * len(photos) // frames]
        scale = max(size[0] / photo.shape[1], size[1] / photo.shape[0]) * 1.2
        big = cv2.resize(photo, None, fx=scale, fy=scale)
        x = int((i % per_photo) / per_photo * (big.shape[1] - size[0]))
        out.write(np.ascontiguousarray(big[: size[1], x : x + size[0]]))
    out.release()
    return path


def link_photos(photos: list[Path], folder: Path) -> Path:
    """`folder` holding links to `photos`, numbered in their order (a photo may come more than once)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, photo in enumerate(photos):
        (folder / f"{i:05d}{photo.suffix.lower()}").symlink_to(photo.resolve())
    return folder


def long_clip(photos: Path, path: Path, seconds: int, fps: int, photo_seconds: float) -> Path:
    """A `seconds` long video at 640x360, a new photo every `photo_seconds` (reused in turn if too few)."""
    count = math.ceil(seconds / photo_seconds)
    folder = link_photos(list(itertools.islice(itertools.cycle(photos_in(photos)), count)), path.with_suffix(""))
    return photo_clip(folder, path, seconds, fps, size=(640, 360))


def camera_clips(
    photos: Path, folder: Path, cameras: int, seconds: int, fps: int, size: tuple[int, int], photo_seconds: int
) -> list[Path]:
    """cam1.mp4 ... camN.mp4 in `folder`: each a pan across photos of its own (evenly spaced through
    `photos`), a new one every `photo_seconds`."""
    found = photos_in(photos)
    per_camera = max(1, seconds // photo_seconds)
    picked = found[:: max(1, len(found) // (cameras * per_camera))]
    clips = []
    for c in range(cameras):
        own = [picked[(c + i * cameras) % len(picked)] for i in range(per_camera)]
        own_folder = link_photos(own, folder / f"photos{c + 1}")
        clips.append(photo_clip(own_folder, folder / f"cam{c + 1}.mp4", seconds, fps, size=size))
    return clips
