"""Compliance over time for one video or stream: faces followed across frames (facemask.inference.tracker),
met with the zone (zones), one verdict per person (people), people and intervals written as they settle
(people_files) and charted at the end (charts).

Each track becomes a person once seen in `min_track_frames` frames (shorter tracks are flickers); the
person's verdict is the majority class over the frames in which the face was seen. With a zone (polygon)
or a line, only people whose track enters the zone or crosses the line count.

A camera may run for days, so nothing grows with the length of the stream: a person whose track has
been lost for longer than the tracker keeps lost tracks cannot come back, so they are settled (written
to the people CSV, added to the tally and to their interval) and forgotten; an interval is written and
forgotten as soon as every person first seen in it is settled. Held in memory are only the people in
view or recently lost, the intervals still open and running tallies; rows are flushed as they are
written, so a stream stopped at any moment keeps them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from facemask.files import source_label
from facemask.inference.annotate import draw_tally, draw_zone
from facemask.inference.charts import compliance_chart
from facemask.inference.counting import Tally
from facemask.inference.media import Frame
from facemask.inference.people import IntervalTally, Person, PersonBook
from facemask.inference.people_files import INTERVAL_COLUMNS, PEOPLE_COLUMNS, RowWriter, read_intervals
from facemask.inference.tracker import FaceTracker
from facemask.inference.zones import Zone, ZoneGate

DEFAULT_FPS = 25.0  # for a video that does not say its frame rate


class ComplianceCounter:
    """Follows faces through one video or stream: the tracker, the zone, the book of people in view,
    the totals and intervals and their files, wired together. With a `save_dir`, writes there
    `<stem>_people.csv` and `<stem>_compliance.csv` (rows flushed as they settle), and at close
    `<stem>_compliance.png` and `<stem>_tracking.json` (totals and intervals; the people are in the
    CSV); without one (the app) it only counts. Rows name the `source`; with `people_csv` (several cameras)
    they go to that shared file instead of one of the counter's own. `on_person` is also given each counted
    person's row as they settle (the app lists the people of its short videos), and `on_interval` (set
    after it is made, as the event sink does) each interval's row as it is written.

    `fps` is the source's frame rate and `stride` the --vid-stride: the tracker sees fps/stride frames
    a second, and a frame's time is its index over fps (the wall clock for live sources)."""

    def __init__(
        self,
        save_dir: Path | None,
        stem: str,
        names: dict[int, str],
        fps: float | None,
        stride: int = 1,
        min_track_frames: int = 5,
        interval_s: float = 60.0,
        zone: Zone | None = None,
        tracker: str = "bytetrack.yaml",
        on_person: Callable[[dict[str, Any]], None] | None = None,
        source: str = "",
        people_csv: RowWriter | None = None,
    ):
        self.intervals = IntervalTally(interval_s)
        self.names = names
        self.tracker_config = tracker
        self._time(fps, stride)
        self.started = time.monotonic()
        self.min_frames, self.zone, self.on_person = min_track_frames, zone, on_person
        self.gate = ZoneGate(zone)
        self.totals = Tally()  # the people settled so far
        self.ignored = 0  # tracks too short, or that never met the zone
        self.source = source_label(source)  # as rows are written: a camera's login never reaches them
        outputs = ("compliance.csv", "compliance.png", "tracking.json") + (() if people_csv else ("people.csv",))
        self.paths = {k: save_dir / f"{stem}_{k}" for k in outputs} if save_dir else {}
        self._shared_people = people_csv is not None
        self._people_csv = people_csv or (RowWriter(self.paths["people.csv"], PEOPLE_COLUMNS) if save_dir else None)
        self._intervals_csv = RowWriter(self.paths["compliance.csv"], INTERVAL_COLUMNS) if save_dir else None
        self.frames, self.now_s, self._closed = 0, 0.0, False
        self.live, self.heard_s = False, 0.0  # a live source, and when it was last heard of (frame or error)
        self.on_interval: Callable[[dict[str, Any]], None] | None = None

    def _time(self, fps: float | None, stride: int) -> None:
        """What depends on the frame rate: the tracker (its lost-track patience is in frames) and the book."""
        self.fps, self.stride = fps or DEFAULT_FPS, stride
        self.tracker = FaceTracker(self.tracker_config, self.fps / stride)
        # The tracker drops a lost track one update after lost_frames; until then it may hand the id back.
        self.book = PersonBook(self.tracker.lost_frames + 1)
        self.step_s = stride / self.fps  # from one frame read to the next: a live stream's is measured

    def update(self, frame: Frame, detections: sv.Detections) -> sv.Detections:
        """Track one frame's detections; returns them all, with tracker ids (-1: not in a track yet)."""
        if not self.frames and ((frame.fps or DEFAULT_FPS), frame.stride) != (self.fps, self.stride):
            self._time(frame.fps, frame.stride)  # made at a camera's first failure: its frames say its rate
        self.live = frame.live
        now_s = self._clock() if frame.live else frame.index / self.fps
        tracked = self.tracker.update(detections, frame.image)
        self.count(tracked, now_s, frame.image.shape[1], frame.image.shape[0])
        return tracked

    def count(self, tracked: sv.Detections, now_s: float, width: int, height: int) -> None:
        """Count one frame of detections whose `tracker_id` is set (-1: no track), seen at `now_s` in a
        `width` x `height` frame: the half of `update` after the tracker."""
        if self.frames:
            self.step_s = now_s - self.now_s
        self.frames, self.now_s = self.frames + 1, now_s
        self.intervals.see(now_s)
        hits = self.gate.hits(tracked, width, height)
        for i in np.flatnonzero(tracked.tracker_id >= 0):
            label = self.names[int(tracked.class_id[i])]
            track_id, confidence = int(tracked.tracker_id[i]), float(tracked.confidence[i])
            self.book.see(track_id, self.frames, now_s, label, confidence, bool(hits[i]))
        for person in self.book.settled(self.frames):
            self._settle(person)
        earliest = self.book.first_seen_s()
        self._write_intervals(self.intervals.settle(now_s if earliest is None else min(now_s, earliest)))

    def _clock(self) -> float:
        return time.monotonic() - self.started

    def source_down(self, live: bool = False) -> None:
        """The source failed (a camera lost, a file cut short): those in view are settled, as no track
        survives the gap, and a live source's intervals are written up to now, with the frames they had,
        so a camera down for an hour has its hour of empty intervals at once, not when it is back.
        `live`: the source is a camera (how a counter that has seen no frame yet learns it)."""
        self.live = self.live or live
        self.tracker.forget()
        self._settle_everyone()
        if self.live:
            self.heard_s = self._clock()
            self._write_intervals(self.intervals.settle(self.heard_s))

    def _settle_everyone(self) -> None:
        for person in self.book.drain():
            self._settle(person)

    def _counts(self, person: Person) -> bool:
        return person.frames >= self.min_frames and person.counted

    def _settle(self, person: Person) -> None:
        if not self._counts(person):
            self.ignored += 1
            return
        self.totals.add(person.verdict)
        self.intervals.add(person)
        row = person.row(self.source)
        if self._people_csv is not None:
            self._people_csv.write(row)
        if self.on_person is not None:
            self.on_person(row)

    def _write_intervals(self, rows: Iterator[dict[str, Any]]) -> None:
        for row in rows:
            if self._intervals_csv is not None:
                self._intervals_csv.write(row)
            if self.on_interval is not None:
                self.on_interval(row)

    def draw(self, image: np.ndarray) -> np.ndarray:
        """The zone or line and the running tally, on an annotated frame."""
        if self.zone is not None:
            draw_zone(image, self.zone.in_pixels(image.shape[1], image.shape[0]))
        return draw_tally(image, self.tally_text())

    def tally(self) -> Tally:
        """People so far (settled, and current tracks long enough to count), for the on-video overlay."""
        tally = Tally(self.totals.masked, self.totals.unmasked)
        for person in self.book:
            if self._counts(person):
                tally.add(person.verdict)
        return tally

    def tally_text(self) -> str:
        """The running tally drawn on tracked video: 'people 5  masked 3 (60%)  unmasked 2'."""
        t = self.tally()
        rate = "" if t.rate is None else f" ({t.percent})"
        return f"people {t.people}  masked {t.masked}{rate}  unmasked {t.unmasked}"

    @property
    def ended_s(self) -> float:
        """Where the stream read so far ends, in stream time: its last frame's time and that frame's own
        length (a 12-s clip at 25 fps ends at 12.0, its last frame is at 11.96); a live source that went
        down ends when it was last heard of."""
        if not self.frames:
            return round(self.heard_s, 6)  # a camera that never sent a frame: down since it was first tried
        return round(max(self.now_s + self.step_s, self.heard_s), 6)  # 5.9 + 0.1 is 6.0, not 6.000000000000001

    def close(self) -> dict[str, Any]:
        """Settle everyone still held, write the last intervals, the summary JSON and the chart."""
        if self._closed:
            return self.summary()
        self._closed = True
        if self.live:  # stopped while down: the outage is in the intervals up to the stop
            self.heard_s = self._clock()
        self._settle_everyone()
        self._write_intervals(self.intervals.rest(self.ended_s))
        for writer in (None if self._shared_people else self._people_csv, self._intervals_csv):
            if writer is not None:
                writer.close()
        summary = self.summary()
        if self.paths:
            intervals = read_intervals(self.paths["compliance.csv"])
            self.paths["tracking.json"].write_text(json.dumps({**summary, "intervals": intervals}, indent=2) + "\n")
            compliance_chart(intervals, self.intervals.seconds, self.totals, self.paths["compliance.png"])
        return summary

    def summary(self) -> dict[str, Any]:
        """The totals and settings of the run; people are not kept here (see the people CSV, `on_person`)."""
        return {
            **self.tally().row(),
            "frames": self.frames,
            "duration_s": round(self.ended_s, 2),
            "fps": self.fps,
            "min_track_frames": self.min_frames,
            "interval_s": self.intervals.seconds,
            "ignored_tracks": self.ignored,
            "zone": None if self.zone is None else self.zone.points.tolist(),
            "files": {k: str(v) for k, v in self.paths.items()},
        }
