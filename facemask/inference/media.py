"""The inputs of detect.py, as in YOLOv5: an image, a folder, a glob, a .txt list of paths, a video,
a webcam index, an RTSP/HTTP stream. Frames are read lazily, one at a time, so memory stays flat on
long videos and streams; a file that cannot be read becomes a Frame with an error, not a crash."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from facemask.errors import FacemaskError
from facemask.files import folder_files, glob_files, has_magic, shown
from facemask.images import NotAnImage, UnreadableImage, load_image

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif"})
STREAMS_SUFFIX = ".streams"  # a text file of sources to read at once, one per line (YOLOv5's convention)
STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "tcp://", "udp://")
MAX_SIDE = 4096  # larger images are decoded reduced to this long side (see load_image)
MAX_PIXELS = 1_000_000_000  # refuse only absurd images (the merge, as Pillow, refuses above 89 Mpx)
FILE_ERRORS = {FileNotFoundError: "missing file", PermissionError: "permission denied"}  # skip reasons, by cause
#: A stream is given up when it sends nothing for this long (seconds), opening or between frames: FFmpeg's
#: own default is to wait forever (for a camera that accepts the connection and never answers).
STREAM_TIMEOUT_S = 10.0


# FFmpeg prints its own errors (a refused stream, a broken file) to stderr, around ours; keep only fatal
# ones unless the user asks for more (read by OpenCV whenever a capture opens). OpenCV's own warnings
# ("Stream timeout triggered", "backend ... can't be used") likewise, unless OPENCV_LOG_LEVEL is set.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")
if "OPENCV_LOG_LEVEL" not in os.environ:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


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
    ended: bool = False  # no image: the source has ended (sent by facemask.inference.streams)


class Source(NamedTuple):
    """What a --source names: its kind ('webcam' | 'stream' | 'files' | 'streams') and items (paths, or one
    URL; for 'streams', every source of the .streams file)."""

    kind: str
    items: list[str]


def resolve_source(source: str | int | Path) -> Source:
    """The kind and items of a source; raises SourceError for a path that does not exist or cannot be
    read. Folders and globs are listed by facemask.files: link loops end, and each file comes once."""
    s = str(source)
    if s.isdigit():
        return Source("webcam", [s])
    if s.lower().startswith(STREAM_SCHEMES):
        if shown(s) != s:  # OpenCV would crash on it
            raise SourceError(f"the stream address {shown(s)} is not valid UTF-8")
        return Source("stream", [s])
    errors: list[OSError] = []
    if not Path(s).exists() and has_magic(s):  # 'photo[1].jpg' is a file, not a pattern
        files = glob_files(s, errors.append)
        _report(errors, found=bool(files))
        if not files:
            raise SourceError(f"no files match {shown(s)}")
        return Source("files", files)
    path = Path(s)
    if not path.exists():
        raise SourceError(f"no such file or directory: {shown(s)}")
    if path.is_dir():
        files = folder_files(s, errors.append)
        _report(errors, found=bool(files))
        if not files:
            raise SourceError(f"no files in {shown(s)}")
        return Source("files", files)
    if path.suffix.lower() == STREAMS_SUFFIX:  # sources read side by side (facemask.inference.streams)
        from facemask.inference.streams import read_streams_file  # it builds on this module

        return Source("streams", read_streams_file(path))
    if path.suffix.lower() == ".txt":  # a list of paths, one per line, relative to the list's folder
        lines = [line.strip() for line in read_list(path, "paths") if line.strip()]
        return Source("files", [line if Path(line).is_absolute() else str(path.parent / line) for line in lines])
    return Source("files", [s])


def read_list(path: Path, what: str) -> list[str]:
    """The lines of a list file (.txt of paths, .streams of sources); a SourceError when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise SourceError(f"{shown(str(path))} is not a list of {what} (not UTF-8 text)") from None
    except OSError as e:
        raise SourceError(f"cannot read {shown(str(path))}: {e.strerror}") from None


def _report(errors: list[OSError], found: bool) -> None:
    """Folders that could not be searched: an error when nothing was found, else a warning each."""
    if errors and not found:
        raise SourceError(f"cannot read {shown(str(errors[0].filename))}: {errors[0].strerror}")
    for e in errors:
        print(f"WARNING: skipped {shown(str(e.filename))}: {e.strerror}", file=sys.stderr)


def iter_frames(
    source: str | int | Path | Source, vid_stride: int = 1, stream_timeout: float = STREAM_TIMEOUT_S
) -> Iterator[Frame]:
    """Every frame of a source (or of what resolve_source made of one), one at a time; a stream silent
    for `stream_timeout` seconds is given up."""
    if vid_stride < 1:
        raise ValueError(f"--vid-stride must be 1 or more, not {vid_stride}")
    kind, items = source if isinstance(source, Source) else resolve_source(source)
    if kind == "streams":
        from facemask.inference.streams import MultiSource  # it builds on this module

        yield from MultiSource(items, vid_stride, stream_timeout=stream_timeout)
    elif kind == "webcam":
        yield from iter_video(int(items[0]), f"webcam{items[0]}", vid_stride, live=True)
    elif kind == "stream":
        yield from iter_video(items[0], "stream", vid_stride, live=True, timeout=stream_timeout)
    else:
        for item in items:
            if Path(item).suffix.lower() in VIDEO_SUFFIXES:
                yield from iter_video(item, Path(item).stem, vid_stride)
            else:
                yield read_image(item)


def read_image(path: str) -> Frame:
    """Decode an image upright (EXIF) as BGR; huge ones reduced, unreadable ones as an error Frame."""
    frame = Frame(source=path, name=Path(path).stem)
    try:
        loaded = load_image(path, MAX_PIXELS, MAX_SIDE)
    except NotAnImage:
        frame.error = "not an image or video"
    except UnreadableImage as e:
        frame.error = FILE_ERRORS.get(type(e.__cause__), f"unreadable image ({e})")
    else:
        frame.scale = loaded.scale
        frame.image = cv2.cvtColor(np.asarray(loaded.image), cv2.COLOR_RGB2BGR)
    return frame


def iter_video(
    target: str | int,
    name: str | None = None,
    vid_stride: int = 1,
    live: bool = False,
    timeout: float = STREAM_TIMEOUT_S,
) -> Iterator[Frame]:
    """Frames of a video file, webcam index or stream URL (given up after `timeout` seconds of silence); a
    file that is not a video, or has no frames, gives one Frame with an error. Only this, never a path
    list or a glob: the app uses it."""
    name = name or Path(str(target)).stem
    if live and isinstance(target, str):
        ms = round(timeout * 1000)
        cap = cv2.VideoCapture(
            target, cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        )
    else:
        with _openable(target) as path:
            cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            if isinstance(target, int):
                raise SourceError(f"cannot open webcam {target}")
            if live:
                why = f"refused, unreachable, or no answer within {timeout:g} s"
                raise SourceError(f"cannot open stream {shown(target)} ({why})")
            why = "no such file" if isinstance(target, str) and not os.path.exists(target) else "unreadable video"
            yield Frame(source=str(target), name=name, is_video=True, error=why)
            return
        fps = cap.get(cv2.CAP_PROP_FPS)
        total = 0 if live else int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        index = read = 0
        while cap.grab():
            if index % vid_stride == 0:
                ok, image = cap.retrieve()
                if ok:
                    read += 1
                    yield Frame(
                        str(target),
                        name,
                        image,
                        index,
                        is_video=True,
                        fps=fps if fps > 0 else None,
                        total=total if total > 0 else None,
                        stride=vid_stride,
                        live=live,
                    )
            index += 1
        if read == 0:
            yield Frame(source=str(target), name=name, is_video=True, error="video has no frames")
    finally:
        cap.release()


@contextmanager
def _openable(target: str | int) -> Iterator[str | int]:
    """`target` as OpenCV can take it. A file name with bytes that are not UTF-8 makes OpenCV crash (a
    segfault, not an exception), so such a file is opened through a link with a plain name."""
    if not isinstance(target, str) or shown(target) == target:
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="facemask-") as tmp:
        link = os.path.join(tmp, "video" + shown(Path(target).suffix))
        os.symlink(os.path.abspath(target), link)
        yield link
