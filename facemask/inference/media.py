"""Reading one image, video file, webcam or stream into Frames (what a source is, and which of these opens
it, is decided in facemask.inference.sources and .streams). Frames are read lazily, one at a time, so memory
stays flat on long videos and streams; a file that cannot be read becomes a Frame with an error, not a crash."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from facemask.files import is_utf8, shown
from facemask.images import NotAnImage, UnreadableImage, load_image
from facemask.inference.sources import SourceError

MAX_SIDE = 4096  # larger images are decoded reduced to this long side (see load_image)
MAX_PIXELS = 1_000_000_000  # refuse only absurd images (the merge, as Pillow, refuses above 89 Mpx)
FILE_ERRORS = {FileNotFoundError: "missing file", PermissionError: "permission denied"}  # skip reasons, by cause
#: A stream is given up when it sends nothing for this long (seconds), opening or between frames: FFmpeg's
#: own default is to wait forever (for a camera that accepts the connection and never answers).
STREAM_TIMEOUT_S = 10.0
TIMED_OUT = 0.9  # a failed read that took this share of the timeout or more timed out (the clock is not exact)


# FFmpeg prints its own errors (a refused stream, a broken file) to stderr, around ours; keep only fatal
# ones unless the user asks for more (read by OpenCV whenever a capture opens). OpenCV's own warnings
# ("Stream timeout triggered", "backend ... can't be used") likewise, unless OPENCV_LOG_LEVEL is set.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")
if "OPENCV_LOG_LEVEL" not in os.environ:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


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


class SourceUnavailable(SourceError):
    """A webcam or stream that does not open; `reason` says why without naming it, for a line that does."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def iter_video(
    target: str | int,
    name: str | None = None,
    vid_stride: int = 1,
    live: bool = False,
    timeout: float = STREAM_TIMEOUT_S,
) -> Iterator[Frame]:
    """Frames of a video file, webcam index or stream URL (given up after `timeout` seconds of silence: a
    Frame with that error); a file that is not a video, or has no frames, gives one Frame with an error.
    Only this, never a path list or a glob: the app uses it."""
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
                raise SourceUnavailable(f"cannot open webcam {target}", "cannot open webcam")
            if live:
                why = f"refused, unreachable, or no answer within {timeout:g} s"
                raise SourceUnavailable(f"cannot open stream {shown(target)} ({why})", f"cannot open: {why}")
            why = "no such file" if isinstance(target, str) and not os.path.exists(target) else "unreadable video"
            yield Frame(source=str(target), name=name, is_video=True, error=why)
            return
        like = Frame(str(target), name, is_video=True, stride=vid_stride, live=live)
        yield from _read_frames(cap, like, timeout if live and isinstance(target, str) else None)
    finally:
        cap.release()


def _read_frames(cap: cv2.VideoCapture, like: Frame, timeout: float | None) -> Iterator[Frame]:
    """Every `like.stride`-th frame of an open capture, as Frames like `like`. A stream read with a `timeout`
    that went silent for it (OpenCV ends a timed-out read as it ends a closed stream) ends with a Frame
    saying so."""
    fps = cap.get(cv2.CAP_PROP_FPS)
    total = 0 if like.live else int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    index = read = 0
    while True:
        asked = time.monotonic()  # the wait for this frame alone, not the caller's time with the last one
        if not cap.grab():
            break
        if index % like.stride == 0:
            ok, image = cap.retrieve()
            if ok:
                read += 1
                yield replace(
                    like, image=image, index=index, fps=fps if fps > 0 else None, total=total if total > 0 else None
                )
        index += 1
    if timeout is not None and time.monotonic() - asked >= TIMED_OUT * timeout:
        yield replace(like, error=f"no frame for {timeout:g} s")
    elif read == 0:
        yield replace(like, error="video has no frames")


@contextmanager
def _openable(target: str | int) -> Iterator[str | int]:
    """`target` as OpenCV can take it. A file name with bytes that are not UTF-8 makes OpenCV crash (a
    segfault, not an exception), so such a file is opened through a link with a plain name."""
    if not isinstance(target, str) or is_utf8(target):
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="facemask-") as tmp:
        link = os.path.join(tmp, "video" + shown(Path(target).suffix))
        os.symlink(os.path.abspath(target), link)
        yield link
