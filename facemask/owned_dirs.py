"""Output folders the tools may write into and replace: only those they made themselves.

Every output folder (a merged dataset, runs/detect/exp, runs/val/exp, ...) gets a marker file when it
is created. `--exist-ok` may reuse or replace a folder only when it holds that marker (or is empty);
a user's own folder, a file, or a path that overlaps an input is refused with a one-line error, and
nothing is touched. An output file (prepare_data.py --data) carries its mark in its content: it is
replaced only when it reads as this project wrote it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from facemask.errors import FacemaskError
from facemask.files import is_utf8, shown

MARKER = ".facemask-output.json"


class OutputDirError(FacemaskError, FileExistsError):
    """An output path the tool may not write to."""


def is_ours(path: Path) -> bool:
    return (Path(path) / MARKER).is_file()


def nested(a: Path, b: Path) -> bool:
    """True when one resolved path is, or lies inside, the other."""
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_output(
    path: Path, exist_ok: bool, protected: Iterable[Path] = (), flag: str = "--out", replace: bool = False
) -> None:
    """Raise OutputDirError unless `path` may be (re)written: it does not exist, or `exist_ok` is given
    and it is an empty folder or one this project made; and it overlaps none of `protected` (inputs).
    With `replace` (the whole folder will be swapped for a new one), every file in it must also be one
    the project wrote, as listed by its marker."""
    path = Path(path)
    resolved = path.resolve()  # once: `protected` may list every input file (10,000 photos, say)
    for p in protected:
        if nested(resolved, Path(p).resolve()):
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
    foreign = foreign_files(path) if replace and is_ours(path) else []
    if foreign:
        raise OutputDirError(
            f"{path} holds {len(foreign)} file(s) this project did not write (e.g. {foreign[0]}); "
            f"move them out or choose another {flag}"
        )


def check_output_file(path: Path, exist_ok: bool, ours: Callable[[Path], bool], flag: str) -> None:
    """Raise OutputDirError unless the file `path` may be written: never a folder, and an existing file
    is replaced (`exist_ok`) only when this project wrote it, which `ours` tells from its content (a file
    holds no marker beside it). Without `exist_ok` an existing file is the caller's to keep as it is."""
    path = Path(path)
    if path.is_dir():
        raise OutputDirError(f"{flag} {path} is a folder, not a file; choose another {flag}")
    if exist_ok and path.exists() and not ours(path):
        raise OutputDirError(
            f"{flag} {path} is a file this project did not write (or one edited since); it is left as it is: "
            f"choose another {flag}"
        )


def foreign_files(path: Path) -> list[str]:
    """Files under `path` that its marker does not list (nor match its patterns), sorted. A folder
    marked without a list (still being written, or a run folder) counts every file as foreign."""
    info = json.loads((Path(path) / MARKER).read_text())
    listed = set(info.get("files", []))
    patterns = info.get("patterns", [])
    found = []
    for root, _, files in os.walk(path):
        for f in files:
            rel = Path(root, f).relative_to(path).as_posix()
            if rel != MARKER and rel not in listed and not any(fnmatch.fnmatch(rel, p) for p in patterns):
                found.append(rel)
    return sorted(found)


def mark(path: Path, kind: str, files: Iterable[str] | None = None, patterns: Iterable[str] = ()) -> Path:
    """Create `path` if needed and record that this project made it (`kind`: dataset, detect, val, ...).
    `files` (relative paths) and `patterns` (globs, e.g. caches other tools write for us) list its
    content when it is complete; a folder marked without them is replaced by nobody."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    info = {"made_by": "facemask", "kind": kind, "pid": os.getpid()}
    if files is not None:
        info.update(files=sorted(files), patterns=list(patterns))
    (path / MARKER).write_text(json.dumps(info, indent=0) + "\n")
    return path


def publish(tmp: Path, out: Path, kind: str, patterns: Iterable[str] = ()) -> None:
    """Finish a folder built at `tmp`: list its files in the marker, then swap it in for `out`. An old
    `out` (which check_output allowed) is removed only after the new one is in place."""
    files = [Path(d, f).relative_to(tmp).as_posix() for d, _, fs in os.walk(tmp) for f in fs if f != MARKER]
    mark(tmp, kind, files, patterns)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def run_dir(
    project: str | Path, name: str, exist_ok: bool = False, *, kind: str, protected: Iterable[str | Path] = ()
) -> Path:
    """project/name, or name2, name3, ... as YOLOv5 numbers runs (ultralytics 8.4 would say name-2),
    created and marked as this project's `kind` of run. With `exist_ok`, project/name itself, but only
    when empty or a `kind` run this project made, never a folder of the user's; and never a folder
    holding (or inside) any of `protected`, the run's inputs (facemask.owned_dirs)."""
    from ultralytics.utils.files import increment_path

    flag = "--project/--name"
    path = Path(project).resolve() / name
    if not is_utf8(str(path)):  # OpenCV crashes on such a path
        raise OutputDirError(f"{flag} {shown(str(path))} is not valid UTF-8; choose another {flag}")
    if not exist_ok:
        path = increment_path(path, exist_ok=False, sep="")
    check_output(path, exist_ok, protected, flag=flag)
    if is_ours(path) and _marked_kind(path) != kind:
        raise OutputDirError(
            f"{path} holds this project's {_marked_kind(path)} output, not a {kind} run; choose another {flag}"
        )
    try:
        return mark(path, kind)
    except OSError as e:
        raise OutputDirError(f"cannot create {path} ({e.strerror}); choose another {flag}") from None


def _marked_kind(path: Path) -> str | None:
    """What a folder's marker says it holds (detect, val, train, dataset), or None if unreadable."""
    try:
        return json.loads((path / MARKER).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
