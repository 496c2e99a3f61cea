"""Output folders the tools may write into and replace: only those they made themselves.

Every output folder (a merged dataset, runs/detect/exp, runs/val/exp, ...) gets a marker file when it
is created. `--exist-ok` may reuse or replace a folder only when it holds that marker (or is empty);
a user's own folder, a file, or a path that overlaps an input is refused with a one-line error, and
nothing is touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from facemask.errors import FacemaskError

MARKER = ".facemask-output.json"


class OutputDirError(FacemaskError, FileExistsError):
    """An output path the tool may not write to."""


def is_ours(path: Path) -> bool:
    return (Path(path) / MARKER).is_file()


def overlaps(a: Path, b: Path) -> bool:
    """True when one path is, or lies inside, the other (after resolving links)."""
    a, b = Path(a).resolve(), Path(b).resolve()
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_output(path: Path, exist_ok: bool, protected: Iterable[Path] = (), flag: str = "--out") -> None:
    """Raise OutputDirError unless `path` may be (re)written: it does not exist, or `exist_ok` is given
    and it is an empty folder or one this project made; and it overlaps none of `protected` (inputs)."""
    path = Path(path)
    for p in protected:
        if overlaps(path, p):
            raise OutputDirError(f"{flag} {path} overlaps the input {p}; choose a folder outside it")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputDirError(f"{flag} {path} is a file, not a folder; choose another {flag}")
    if not path.exists():
        return
    if not exist_ok:
        raise OutputDirError(f"{path} already exists; pass --exist-ok to replace it, or choose another {flag}")
    if not is_ours(path) and any(path.iterdir()):
        raise OutputDirError(
            f"{path} holds files this project did not write (no {MARKER}); it is left as it is: choose another {flag}"
        )


def mark(path: Path, kind: str) -> Path:
    """Create `path` if needed and record that this project made it (`kind`: dataset, detect, val, ...)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    if not marker.exists():
        marker.write_text(json.dumps({"made_by": "facemask", "kind": kind, "pid": os.getpid()}) + "\n")
    return path
