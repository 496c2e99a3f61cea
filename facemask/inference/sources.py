"""What a --source names, decided once: its kind (an image, a folder, a glob, a .txt list of paths, a video, a
webcam index, an RTSP/HTTP stream, a .streams file of sources read at once) and the items it stands for.

Only names and the file system are read here, never an image or a video (that is facemask.inference.media),
so every other module of the inference can import it: media reads one file or stream, streams reads many at
once, and `facemask.inference.streams.iter_frames` picks which of them opens a source, by its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from facemask.errors import FacemaskError, warn
from facemask.files import folder_files, glob_files, has_magic, is_utf8, shown

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".gif"})
STREAMS_SUFFIX = ".streams"  # a text file of sources to read at once, one per line (YOLOv5's convention)
LIST_SUFFIX = ".txt"  # a text file of paths, one per line, read one after the other
STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "tcp://", "udp://")


class SourceError(FacemaskError, ValueError):
    """A source that does not exist or cannot be opened at all."""


class SourceKind(Enum):
    """What a source is; its value is how a message names it."""

    IMAGE = "image"
    VIDEO = "video"
    FOLDER = "folder"
    GLOB = "glob"
    LIST = "list of paths"
    STREAMS_FILE = "streams file"
    WEBCAM = "webcam"
    STREAM = "stream"

    @property
    def live(self) -> bool:
        """A camera: time runs on the wall clock, there is no end, and it is never a file of the user's."""
        return self in (SourceKind.WEBCAM, SourceKind.STREAM)

    @property
    def files(self) -> bool:
        """The user's own files, read one after the other (a run must never write into them)."""
        return self not in (SourceKind.WEBCAM, SourceKind.STREAM, SourceKind.STREAMS_FILE)


class Source(NamedTuple):
    """A source's kind and its items: paths for files, the URL or webcam index for a camera, and for a
    streams file every source it lists."""

    kind: SourceKind
    items: list[str]


_BY_SUFFIX = {STREAMS_SUFFIX: SourceKind.STREAMS_FILE, LIST_SUFFIX: SourceKind.LIST} | dict.fromkeys(
    VIDEO_SUFFIXES, SourceKind.VIDEO
)


def classify(source: str | int | Path) -> SourceKind:
    """The kind of a source, from its text, and for a path from whether it is a folder or (missing) a pattern:
    the one place that decides it. A missing file still has a kind (by its suffix): it is reported when opened."""
    s = str(source)
    if s.isdigit():
        return SourceKind.WEBCAM
    if s.lower().startswith(STREAM_SCHEMES):
        return SourceKind.STREAM
    path = Path(s)
    if path.is_dir():
        return SourceKind.FOLDER
    if has_magic(s) and not path.exists():  # 'photo[1].jpg' is a file, not a pattern
        return SourceKind.GLOB
    return _BY_SUFFIX.get(path.suffix.lower(), SourceKind.IMAGE)


def resolve_source(source: str | int | Path) -> Source:
    """The kind and items of a source; raises SourceError for one that does not exist or cannot be read.
    Folders and globs are listed by facemask.files: link loops end, and each file comes once."""
    s, kind = str(source), classify(source)
    if kind is SourceKind.STREAM and not is_utf8(s):  # OpenCV would crash on it
        raise SourceError(f"the stream address {shown(s)} is not valid UTF-8")
    if kind.live:
        return Source(kind, [s])
    if kind is SourceKind.GLOB:
        return Source(kind, _listed(s, glob_files, "no files match"))
    if not Path(s).exists():
        raise SourceError(f"no such file or directory: {shown(s)}")
    if kind is SourceKind.FOLDER:
        return Source(kind, _listed(s, folder_files, "no files in"))
    if kind is SourceKind.STREAMS_FILE:
        return Source(kind, read_streams_file(s))
    if kind is SourceKind.LIST:
        lines = [line.strip() for line in read_list(Path(s), "paths") if line.strip()]
        return Source(kind, [_beside(Path(s), line) for line in lines])
    return Source(kind, [s])


def read_streams_file(path: str | Path) -> list[str]:
    """The sources a .streams file lists (blank lines and # comments skipped, a URL kept whole); relative
    paths are relative to the file's folder."""
    path = Path(path)
    items = []
    for line in read_list(path, "sources"):
        item = line.strip()
        live = classify(item).live
        item = item if live else item.split("#", 1)[0].strip()
        if item:
            items.append(item if live else _beside(path, item))
    if not items:
        raise SourceError(f"{shown(str(path))} lists no sources")
    return items


def read_list(path: Path, what: str) -> list[str]:
    """The lines of a list file (.txt of paths, .streams of sources); a SourceError when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise SourceError(f"{shown(str(path))} is not a list of {what} (not UTF-8 text)") from None
    except OSError as e:
        raise SourceError(f"cannot read {shown(str(path))}: {e.strerror}") from None


def _beside(listing: Path, item: str) -> str:
    """A path a list file names: relative to the list's folder, unless absolute."""
    return item if Path(item).is_absolute() else str(listing.parent / item)


def _listed(s: str, lister: Callable[[str, Callable[[OSError], None]], list[str]], nothing: str) -> list[str]:
    """The files of a folder or a glob. Folders that could not be searched: an error when nothing was found,
    else a warning each."""
    errors: list[OSError] = []
    files = lister(s, errors.append)
    if errors and not files:
        raise SourceError(f"cannot read {shown(str(errors[0].filename))}: {errors[0].strerror}")
    for e in errors:
        warn(f"skipped {shown(str(e.filename))}: {e.strerror}")
    if not files:
        raise SourceError(f"{nothing} {shown(s)}")
    return files
