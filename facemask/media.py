"""The inputs of detect.py, as in YOLOv5: an image, a folder, a glob, a .txt list of paths, a video,
a webcam index, an RTSP/HTTP stream. Frames are read lazily, one at a time, so memory stays flat on
long videos and streams; a file that cannot be read becomes a Frame with an error, not a crash."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facemask.errors import FacemaskError
from facemask.images import EXIF_ORIENTATION, to_rgb

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif"})
STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "tcp://", "udp://")
#: Larger images are decoded reduced to about this long side (JPEGs cheaply, with Pillow's draft mode):
#: a 20000x20000 photo would otherwise take 1.2 GB and seconds per pass, for a 640 px network input.
MAX_SIDE = 4096
MAX_PIXELS = 1_000_000_000  # refuse only absurd images (Pillow's own limit is 179 Mpx)


# FFmpeg prints its own errors (a refused stream, a broken file) to stderr, around ours; keep only fatal
# ones unless the user asks for more (read by OpenCV whenever a capture opens).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")


class SourceError(FacemaskError, ValueError):
    """A source that does not exist or cannot be opened at all."""


@dataclass
class Frame:
    source: str  # the file or URL, as given
    name: str  # stem for output files
    image: np.ndarray | None = None  # BGR, as OpenCV and ultralytics take it
    index: int = 0  # frame number in a video or stream
    is_video: bool = False
    fps: float | None = None  # the source's frame rate, when known
    total: int | None = None  # frames in a video file, when known
    stride: int = 1  # every stride-th frame is read (--vid-stride)
    live: bool = False  # a webcam or stream: time runs on the wall clock, there is no end
    scale: float = 1.0  # decoded pixels per original pixel (< 1 for huge images read reduced)
    error: str | None = None  # why this file was skipped


def resolve_source(source: str | int | Path) -> tuple[str, list[str]]:
    """('webcam' | 'stream' | 'files', items); raises SourceError for a path that does not exist."""
    s = str(source)
    if s.isdigit():
        return "webcam", [s]
    if s.lower().startswith(STREAM_SCHEMES):
        return "stream", [s]
    if not Path(s).exists() and any(ch in s for ch in "*?["):  # 'photo[1].jpg' is a file, not a pattern
        files = sorted(f for f in glob.glob(s, recursive=True) if Path(f).is_file())
        if not files:
            raise SourceError(f"no files match {s}")
        return "files", files
    path = Path(s)
    if not path.exists():
        raise SourceError(f"no such file or directory: {s}")
    if path.is_dir():
        files = sorted(str(f) for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
        if not files:
            raise SourceError(f"no files in {s}")
        return "files", files
    if path.suffix.lower() == ".txt":  # a list of paths, one per line, relative to the list's folder
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return "files", [line if Path(line).is_absolute() else str(path.parent / line) for line in lines]
    return "files", [s]


def iter_frames(source: str | int | Path, vid_stride: int = 1) -> Iterator[Frame]:
    if vid_stride < 1:
        raise ValueError(f"--vid-stride must be 1 or more, not {vid_stride}")
    kind, items = resolve_source(source)
    if kind == "webcam":
        yield from iter_video(int(items[0]), f"webcam{items[0]}", vid_stride, live=True)
    elif kind == "stream":
        yield from iter_video(items[0], "stream", vid_stride, live=True)
    else:
        for item in items:
            if Path(item).suffix.lower() in VIDEO_SUFFIXES:
                yield from iter_video(item, Path(item).stem, vid_stride)
            else:
                yield read_image(item)


def read_image(path: str) -> Frame:
    """Decode an image upright (EXIF) as BGR; huge ones reduced, unreadable ones as an error Frame."""
    frame = Frame(source=path, name=Path(path).stem)
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with Image.open(path) as im:
            turned = im.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
            full = im.size[::-1] if turned else im.size  # upright size, before any decoding
            if max(im.size) > MAX_SIDE:
                im.draft("RGB", (im.width * MAX_SIDE // max(im.size), im.height * MAX_SIDE // max(im.size)))
            im.load()
            upright = ImageOps.exif_transpose(im)
            if max(upright.size) > MAX_SIDE:
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb = to_rgb(upright)
        frame.scale = rgb.width / full[0]
        frame.image = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
    except FileNotFoundError:
        frame.error = "missing file"
    except UnidentifiedImageError:
        frame.error = "not an image or video"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        frame.error = f"unreadable image ({e})"
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    return frame


def iter_video(target: str | int, name: str | None = None, vid_stride: int = 1, live: bool = False) -> Iterator[Frame]:
    """Frames of a video file, webcam index or stream URL; a file that is not a video, or has no
    frames, gives one Frame with an error. Only this, never a path list or a glob: the app uses it."""
    name = name or Path(str(target)).stem
    cap = cv2.VideoCapture(target)
    try:
        if not cap.isOpened():
            if live:
                raise SourceError(f"cannot open {'webcam' if isinstance(target, int) else 'stream'} {target}")
            yield Frame(source=str(target), name=name, is_video=True, error="unreadable video")
            return
        fps = cap.get(cv2.CAP_PROP_FPS)
        total = 0 if live else int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        index = read = 0
        while cap.grab():
            if index % vid_stride == 0:
                ok, image = cap.retrieve()
                if ok:
                    read += 1
                    yield Frame(str(target), name, image, index, is_video=True, fps=fps if fps > 0 else None,
                                total=total if total > 0 else None, stride=vid_stride, live=live)  # fmt: skip
            index += 1
        if read == 0:
            yield Frame(source=str(target), name=name, is_video=True, error="video has no frames")
    finally:
        cap.release()
