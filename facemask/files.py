"""Listing the files of a folder or a glob without hanging on symlink loops.

`glob.glob(recursive=True)` follows symlinked folders with no memory of where it has been, so a link
back up the tree (`photos/loop -> photos`) makes `photos/**/*.jpg` run until the path is too long,
listing the same photos thousands of times. Here symlinked folders are followed too (a linked
folder of photos is a normal thing to point at), but a folder is searched at most once per pattern
step, by its (device, inode), so every search ends; and each file is listed once, by its device
and inode, however many links or patterns lead to it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

ErrorHandler = Callable[[OSError], None]

_MAGIC = re.compile(r"[*?[]")


def has_magic(pattern: str) -> bool:
    """Whether a path is a pattern, by glob's own test: it holds '*', '?' or '['."""
    return _MAGIC.search(pattern) is not None


#: Query keys some cameras take a login in (http://cam/video.cgi?user=admin&pwd=...): never shown or stored.
LOGIN_KEYS = frozenset({"user", "username", "usr", "pass", "password", "passwd", "pwd", "token", "auth", "key"})


def source_label(source: str) -> str:
    """A source as stored and shown: a stream URL without its user name and password, in its address or
    its query (rtsp://guard:secret@cam/1 -> rtsp://cam/1); a path as it is."""
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:
        return source
    query = "&".join(p for p in parts.query.split("&") if p.split("=", 1)[0].lower() not in LOGIN_KEYS)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if (netloc, query) == (parts.netloc, parts.query):
        return source
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def slug(text: str) -> str:
    """A name fit for an MQTT topic level or a file name: letters, digits, '-' and '_'."""
    return re.sub(r"[^0-9A-Za-z_-]+", "_", text).strip("_") or "source"


def stream_id(url: str) -> str:
    """A stream as a name: its host, path and query, without a login (rtsp://guard:pw@10.0.0.11/stream1 ->
    10_0_0_11_stream1; an NVR's ?channel=2 keeps its cameras apart), as its files, the camera wall and MQTT
    topics call it."""
    parts = urlsplit(source_label(url))
    return slug(parts.netloc + parts.path + (f"?{parts.query}" if parts.query else ""))


def is_utf8(path: str) -> bool:
    """Whether a path holds only UTF-8 text: OpenCV crashes on one that does not (lone surrogates)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace") == path


def shown(path: str) -> str:
    """A path or source as it can be printed: a stream URL without its credentials (source_label), and
    bytes that are not UTF-8 (kept by Python as lone surrogates, which a UTF-8 terminal refuses with
    UnicodeEncodeError) shown as \\xNN."""
    return os.fsencode(source_label(path)).decode("utf-8", "backslashreplace")


def folder_files(folder: str, onerror: ErrorHandler | None = None) -> list[str]:
    """The files directly in `folder` (not hidden ones: '.name'), sorted, each once."""
    return _search(folder, ["*"], onerror)


def glob_files(pattern: str, onerror: ErrorHandler | None = None) -> list[str]:
    """The files `glob.glob(pattern, recursive=True)` would match ('**' for any depth; hidden names
    only where the pattern spells the dot), sorted, each once; folders that cannot be read are passed
    to `onerror` and skipped."""
    parts = pattern.split(os.sep)
    first = next((i for i, part in enumerate(parts) if has_magic(part)), len(parts))
    steps = [p for p in parts[first:] if p]  # 'a//b' is 'a/b'
    if not steps:  # no wildcard at all: the path itself
        return [pattern] if os.path.isfile(pattern) else []
    prefix = os.sep.join(parts[:first]) or (os.sep if pattern.startswith(os.sep) else "")
    return _search(prefix, steps, onerror)


def _search(prefix: str, steps: list[str], onerror: ErrorHandler | None) -> list[str]:
    """Match `steps` (one glob pattern per path component) below the folder `prefix` ('' for the
    working directory), spelling results from `prefix` as glob does. A folder is entered at most once
    per step, so link loops end; of several paths to one file, a plain one is preferred to a link."""
    found: dict[tuple[int, int], tuple[bool, str]] = {}  # (device, inode) -> (through a link?, path)
    entered: set[tuple[int, int, int]] = set()  # (device, inode, step)
    stack = [(prefix, 0)]
    while stack:
        folder, step = stack.pop()
        try:
            st = os.stat(folder or os.curdir)
            if (st.st_dev, st.st_ino, step) in entered:
                continue
            entered.add((st.st_dev, st.st_ino, step))
            with os.scandir(folder or os.curdir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):  # as for glob: nothing there to match
            continue
        except OSError as e:
            if onerror is not None:
                onerror(e)
            continue
        pattern, last = steps[step], step == len(steps) - 1
        if pattern == "**":
            if not last:
                stack.append((folder, step + 1))  # '**' standing for no folder at all
            matches = [e for e in entries if not e.name.startswith(".")]
        else:
            hidden_ok = pattern.startswith(".")
            matches = [e for e in entries if fnmatch.fnmatchcase(e.name, pattern) and (hidden_ok or e.name[0] != ".")]
        deeper = []
        for entry in matches:
            path = os.path.join(folder, entry.name) if folder else entry.name
            try:
                if last and entry.is_file():  # follows symlinks, as every call here
                    st = entry.stat()
                    link = entry.is_symlink()
                    if (st.st_dev, st.st_ino) not in found or (found[st.st_dev, st.st_ino][0] and not link):
                        found[st.st_dev, st.st_ino] = (link, path)
                elif entry.is_dir() and (pattern == "**" or not last):
                    deeper.append((path, step if pattern == "**" else step + 1))  # '**': one more folder
            except OSError as e:  # a link to itself (ELOOP), a folder without search permission, ...
                if onerror is not None:
                    onerror(e)
        stack.extend(reversed(deeper))  # popped in name order
    return sorted(path for _, path in found.values())
