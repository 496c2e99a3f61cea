"""Events waiting for the database, on disk: an append-only file of JSON lines, fsync'd before an event
counts as sent, so a crash or Ctrl-C while the database is away loses none of them.

Each run's writer has a spool file of its own, locked (flock) while the run lasts; a run that starts
takes over the spools of runs that ended with events still waiting (their lock is free) and replays
them first, in order. Only the writer's thread touches its spool.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from facemask.errors import warn
from facemask.events.event import Event
from facemask.files import shown


def _lock(f: BinaryIO) -> bool:
    """Lock an open spool for this process; False if another process holds it, or it was removed since."""
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return os.fstat(f.fileno()).st_nlink > 0  # still there: not taken over and removed by someone else


def _cut_torn_end(f: BinaryIO) -> None:
    """Drop a last line cut short by a crash mid-write (never fsync'd, so never counted as sent), so that
    the next event starts a line of its own."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    f.seek(max(0, size - 1))
    if f.read(1) != b"\n":
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)


def _events(f: BinaryIO, path: Path) -> Iterator[Event]:
    """The events of a spool from its start; a line cut short by a crash mid-write is reported and skipped."""
    f.seek(0)
    for number, line in enumerate(f, 1):
        try:
            yield Event.from_json(line)
        except ValueError:
            warn(f"{shown(str(path))} line {number} is not a whole event; skipped")


class Spool:
    def __init__(self, folder: Path, run_id: str):
        """`folder`: the spools of one store (runs writing to another store have another folder)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{run_id}.jsonl"
        self._file = self.path.open("a+b")
        if not _lock(self._file):
            raise RuntimeError(f"{self.path} is in use by another run")
        _cut_torn_end(self._file)
        self.depth = sum(1 for _ in _events(self._file, self.path))  # events waiting

    def append(self, events: Iterable[Event]) -> None:
        """Add events at the end, on disk (fsync'd) when this returns."""
        data = b"".join(e.to_json().encode() + b"\n" for e in events)
        if data:
            self._file.seek(0, os.SEEK_END)
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())
            self.depth += data.count(b"\n")

    def chunks(self, size: int) -> Iterator[list[Event]]:
        """The waiting events in order, `size` at a time (memory stays flat however long the outage)."""
        chunk: list[Event] = []
        for e in _events(self._file, self.path):
            chunk.append(e)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def clear(self) -> None:
        """Every waiting event is stored: empty the spool."""
        self._file.truncate(0)
        os.fsync(self._file.fileno())
        self.depth = 0

    def take_over(self) -> int:
        """Append the events of spools left by runs that ended before storing them (in the order the runs
        started), then remove those spools; returns how many events were taken over."""
        taken = 0
        for path in sorted(self.path.parent.glob("*.jsonl")):
            if path == self.path:
                continue
            with path.open("rb") as f:
                if not _lock(f):
                    continue  # a running writer's, or one just taken over by another run
                events = list(_events(f, path))
                self.append(events)
                path.unlink()
                taken += len(events)
        return taken

    def close(self) -> None:
        """Release the spool; an empty one is removed, one with events waiting stays for the next run."""
        if self.depth == 0:
            self.path.unlink(missing_ok=True)
        self._file.close()
