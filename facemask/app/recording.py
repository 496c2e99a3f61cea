"""What the app records (issue #24): the people, intervals and camera status changes that the Cameras tab
and the Video tab (with tracking) settle go to the event store, MQTT, the webhook and the alert rules of
`--db`, `--mqtt`, `--webhook` and `--alerts`, as detect.py's do.

The app makes those outlets once (one writer thread and spool, one MQTT connection, the alert rules'
cooldowns over every run) and each pipeline gets an EventSink over them: the camera wall's, for as long
as the app runs, under the app's run id; and one per video, under a run id of its own (a video analysed
twice is two runs, both kept). A pipeline closes its sinks when it ends; these leave the shared outlets
open, and `close`, at exit, ends them once the store has every event.
"""

from __future__ import annotations

from facemask.events.event import new_run_id
from facemask.events.options import EventOptions, event_sink
from facemask.events.sink import EventSink
from facemask.events.snapshots import SnapshotKeeper
from facemask.events.store import EventStore


class _OverShared(EventSink):
    """An EventSink over outlets it does not own: closing it waits for its own snapshots only."""

    def close(self) -> None:
        if self.snapshots is not None:
            self.snapshots.close()


class AppEvents:
    def __init__(self, options: EventOptions):
        """The outlets of `options`; a FacemaskError, before anything starts, for options that cannot be
        used (a bad URL or rules file, a database of a newer facemask)."""
        self._base = event_sink(options)
        writer = self._base.outlets.writer
        self.store: EventStore | None = writer.store if writer is not None else None  # for the API and history

    @property
    def run_id(self) -> str:
        """The app's run: the camera wall's events carry it."""
        return self._base.run_id

    def sink(self, run_id: str | None = None) -> EventSink:
        """A sink for one pipeline, under `run_id` (default: a new run), with snapshots as `options` asked."""
        kept = self._base.snapshots
        snapshots = SnapshotKeeper(kept.folder, kept.raw, kept.margin) if kept is not None else None
        return _OverShared(self._base.outlets, run_id or new_run_id(), snapshots, self._base.zone_name)

    def close(self) -> None:
        """Deliver what the outlets hold (the store first, then MQTT and the webhook) and stop them."""
        self._base.close()
