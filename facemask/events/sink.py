"""EventSink: the pipeline's results as events (facemask.events.event), handed to the outlets.

Add it to a Pipeline's sinks (detect.py --track, the Cameras and Video tabs) and every tracked
source's settled people, interval tallies and status changes become events as they happen:

- a person, when its people counter settles them: the sink adds itself to the counter's `on_person`
  when the pipeline makes the counter (`follow`; keeping the front end's own), and the best unmasked view of them
  (facemask.events.snapshots) is saved with the event;
- an interval, as its people counter writes it (the counter's `on_interval`): the rows of its
  compliance CSV, with the frames analysed in each (0 while a camera was down);
- a camera status change: opened at a video source's first frame (and the first after an error), lost,
  retried or given_up from the frames with errors that facemask.inference.streams sends, ended when
  the source is done.

Times are wall-clock: a source's stream second 0 is when the pipeline made its counter (its first frame,
or a camera's first failure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from facemask.classes import MASK
from facemask.events import metrics
from facemask.events.event import ENDED, UP, camera_event, interval_event, person_event
from facemask.events.outlets import Outlets
from facemask.events.snapshots import SnapshotKeeper
from facemask.files import slug, source_label
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult
from facemask.inference.streams import GIVEN_UP
from facemask.inference.tracking import ComplianceCounter
from facemask.inference.zones import Zone


def zone_label(zone: Zone | None) -> str:
    """A zone as stored when the front end gives it no name: its points ('' for none)."""
    return "" if zone is None else ",".join(f"{v:g}" for v in zone.points.ravel())


@dataclass
class SourceState:
    """What the sink knows of one source."""

    label: str  # as stored: a stream's URL without its password
    meter: metrics.FrameMeter
    changes: int = 0  # status changes so far
    status: str = ""  # the last one
    counter: ComplianceCounter | None = None
    segment: int = -1  # people counters seen so far (a file read twice is counted twice)
    origin: float = 0.0  # wall time of the counter's stream second 0
    zone: str = ""

    @property
    def up(self) -> bool:
        """Whether frames come: the last status is 'opened'."""
        return self.status == UP


class EventSink(BaseSink):
    def __init__(
        self, outlets: Outlets, run_id: str, snapshots: SnapshotKeeper | None = None, zone_name: str | None = None
    ):
        """`zone_name`: what to call the counting zone in events (default: its points)."""
        self.outlets, self.run_id, self.snapshots, self.zone_name = outlets, run_id, snapshots, zone_name
        self.sources: dict[str, SourceState] = {}

    def _state(self, source: str) -> SourceState:
        if source not in self.sources:
            label = source_label(source)
            self.sources[source] = SourceState(label, metrics.FrameMeter(label))
        return self.sources[source]

    def write(self, result: FrameResult) -> None:
        frame = result.frame
        if not frame.is_video:
            return  # a photo is no camera, and has no people counter
        state = self._state(frame.source)
        if not state.up:
            self._status(state, UP)
        state.meter.frame(frame.index, frame.stride, frame.live, sum(result.speed_ms.values()))
        counter = result.people
        if counter is not None and self.snapshots is not None:
            self.snapshots.look(counter, frame.image, result.detections, counter.names)
            self.snapshots.forget(counter, {p.track_id for p in counter.book})

    def skip(self, frame: Frame) -> None:
        if not frame.is_video or frame.error is None:
            return
        state = self._state(frame.source)
        status = "given_up" if GIVEN_UP in frame.error else "lost" if state.up or not state.changes else "retried"
        if status != state.status:  # a dead camera fails every retry_s: one 'retried' row says so until it opens
            self._status(state, status, frame.error)

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        state = self.sources.get(source)
        if state is None or state.counter is None:
            return
        if self.snapshots is not None:
            self.snapshots.forget(state.counter, set())
        ended_at = state.origin + state.counter.ended_s  # stream time, as its people: a file read faster than
        state.counter = None  # it plays would otherwise end before its last person was seen
        if state.up:
            self._status(state, ENDED, at=ended_at)

    def close(self) -> None:
        if self.snapshots is not None:
            self.snapshots.close()  # the files are written before their events are closed over
        self.outlets.close()

    def follow(self, source: str, counter: ComplianceCounter) -> None:
        """A new people counter for this source: hear of each person it settles and each interval it writes."""
        state = self._state(source)
        state.counter, state.segment = counter, state.segment + 1
        state.origin = time.time()  # the counter's stream second 0: it has seen no frame yet
        state.zone = self.zone_name if self.zone_name is not None else zone_label(counter.zone)
        counter.on_interval = lambda row: self._interval(state, row)
        front_end = counter.on_person

        def on_person(row: dict[str, Any]) -> None:
            if front_end is not None:
                front_end(row)
            self._person(state, counter, row)

        counter.on_person = on_person

    def _person(self, state: SourceState, counter: ComplianceCounter, row: dict[str, Any]) -> None:
        snapshot = None
        if self.snapshots is not None and row["verdict"] != MASK:
            name = f"{slug(state.label)}-{self.run_id}-{state.segment}-{row['track_id']}"
            snapshot = self.snapshots.take(counter, int(row["track_id"]), name)
        metrics.count_person(state.label, row["verdict"], counter.totals.rate)
        event = person_event(self.run_id, state.segment, state.label, state.zone, row, state.origin, snapshot)
        self.outlets.emit(event)

    def _interval(self, state: SourceState, row: dict[str, Any]) -> None:
        self.outlets.emit(interval_event(self.run_id, state.segment, state.label, state.zone, row, state.origin))

    def _status(self, state: SourceState, status: str, detail: str = "", at: float | None = None) -> None:
        state.status = status
        metrics.CAMERA_UP.labels(state.label).set(1 if state.up else 0)
        self.outlets.emit(camera_event(self.run_id, state.label, state.changes, status, detail, at))
        state.changes += 1
