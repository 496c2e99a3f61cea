"""Retention (`--retain-days`): events and snapshots older than so many days are deleted, rows and files
together, when a run starts and every hour while it runs (a chore of the event writer)."""

from __future__ import annotations

import time
from pathlib import Path

from facemask.errors import warn
from facemask.events.store import EventStore

DAY_S = 86400.0
DAY_FOLDERS = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"  # snapshots/<UTC day>/<person>.jpg


def purge(store: EventStore | None, snapshots: Path | None, days: float) -> int:
    """Delete what is older than `days`: the store's rows and their snapshot files, and snapshots left in
    the snapshots folder's day folders from before then (only those: the folder may hold other files).
    Returns how many snapshot files were removed."""
    cutoff = time.time() - days * DAY_S
    old = [Path(name) for name in store.purge(cutoff)] if store is not None else []
    if snapshots is not None:
        old += [p for p in snapshots.glob(f"{DAY_FOLDERS}/*.jpg") if p.stat().st_mtime < cutoff]
    removed = 0
    for path in old:
        try:
            if path.is_file():
                path.unlink()
                removed += 1
        except OSError as e:
            warn(f"could not remove the snapshot {path}: {e.strerror}")
    for folder in snapshots.glob(DAY_FOLDERS) if snapshots is not None else []:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed
