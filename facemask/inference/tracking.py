"""People, not boxes: faces followed across frames, one verdict per person, compliance over time.

Tracking is ultralytics' ByteTrack or BoT-SORT, fed our supervision Detections. Each track becomes a
person once seen in `min_track_frames` frames (shorter tracks are flickers); the person's verdict is
the majority class over the frames in which the face was seen. With a zone (polygon) or a line, only
people whose track enters the zone or crosses the line count.

A camera may run for days, so nothing grows with the length of the stream: a person whose track has
been lost for longer than the tracker keeps lost tracks cannot come back, so they are settled (written
to the people CSV, added to the totals and to their interval) and forgotten; an interval is written and
forgotten as soon as every person first seen in it is settled. Held in memory are only the people in
view or recently lost, the intervals still open and running totals; rows are flushed as they are
written, so a stream stopped at any moment keeps them.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from facemask.classes import MASK
from facemask.inference.annotate import draw_tally, draw_zone
from facemask.inference.media import Frame

TRACKERS = ("bytetrack.yaml", "botsort.yaml")
DEFAULT_FPS = 25.0  # for a video that does not say its frame rate
PEOPLE_COLUMNS = ["source", "track_id", "first_seen_s", "last_seen_s", "frames_seen", "verdict", "confidence",
                  "mean_detection_confidence"]  # fmt: skip
BUCKET_COLUMNS = ["start_s", "end_s", "people", "masked", "unmasked", "compliance_rate"]


class _TrackerInput:
    """Detections in the shape ultralytics' trackers read: conf, cls, xywh, boolean indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray):
        self.xyxy, self.conf, self.cls = xyxy, conf, cls

    @property
    def xywh(self) -> np.ndarray:
        x1, y1, x2, y2 = self.xyxy.T
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> _TrackerInput:
        return _TrackerInput(self.xyxy[index], self.conf[index], self.cls[index])


def check_tracker(config: str) -> str:
    """One of ultralytics' trackers by name, or a tracker yaml that exists; else ValueError."""
    if Path(config).name not in TRACKERS and not Path(config).is_file():
        raise ValueError(f"--tracker must be one of {', '.join(TRACKERS)} or a tracker yaml file, not {config}")
    return config


class FaceTracker:
    """An ultralytics tracker (from its yaml) that takes and returns supervision Detections."""

    def __init__(self, config: str = "bytetrack.yaml", frame_rate: float = 30.0):
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(check_tracker(config))))
        cfg.with_reid, cfg.device = False, "cpu"  # faces are matched by motion and overlap, not appearance
        # The yaml's track_buffer is in frames at 30 fps: keep lost tracks for the same time at this rate.
        cfg.track_buffer = self.lost_frames = max(1, round(cfg.track_buffer * frame_rate / 30.0))
        self.tracker = TRACKER_MAP[cfg.tracker_type](args=cfg)

    def update(self, detections: sv.Detections, image: np.ndarray | None = None) -> sv.Detections:
        """All the detections, with `tracker_id` set: the track's id, or -1 for a face not (yet) in a
        confirmed track (a new face's first frame, a low-confidence one)."""
        tracks = self.tracker.update(
            _TrackerInput(detections.xyxy, detections.confidence, detections.class_id.astype(float)), image
        )
        ids = np.full(len(detections), -1, dtype=int)
        if len(tracks):
            ids[tracks[:, 7].astype(int)] = tracks[:, 4].astype(int)
        detections.tracker_id = ids
        return detections


@dataclass
class Zone:
    """`--zone`: two points are a counting line, three or more a polygon; numbers all <= 1 are fractions
    of the frame size, otherwise pixels."""

    points: np.ndarray

    @classmethod
    def parse(cls, spec: str) -> Zone:
        try:
            values = [float(v) for v in spec.replace(" ", "").split(",") if v]
        except ValueError:
            raise ValueError(f"--zone needs numbers x1,y1,x2,y2,...: {spec!r}") from None
        if len(values) < 4 or len(values) % 2:
            raise ValueError(f"--zone needs pairs of numbers, two points for a line or 3+ for a polygon: {spec!r}")
        return cls(np.array(values).reshape(-1, 2))

    @property
    def is_line(self) -> bool:
        return len(self.points) == 2

    def in_pixels(self, width: int, height: int) -> np.ndarray:
        return self.points * [width, height] if self.points.max() <= 1 else self.points.copy()

    def counter(self, width: int, height: int):
        p = self.in_pixels(width, height)
        if self.is_line:
            anchors = (sv.Position.CENTER,)
            return sv.LineZone(sv.Point(*p[0]), sv.Point(*p[1]), triggering_anchors=anchors)
        return sv.PolygonZone(p.round().astype(int), triggering_anchors=(sv.Position.CENTER,))


class ZoneGate:
    """Which tracked faces entered the zone or crossed the line this frame (all of them without a zone).
    supervision's zone is made at the first frame's size and keeps crossing state per track id, so only
    confirmed tracks are shown to it; it forgets tracks that are gone."""

    def __init__(self, zone: Zone | None):
        self.zone = zone
        self._counter: sv.LineZone | sv.PolygonZone | None = None

    def hits(self, tracked: sv.Detections, width: int, height: int) -> np.ndarray:
        hits = np.full(len(tracked), self.zone is None)
        confirmed = np.flatnonzero(tracked.tracker_id >= 0)
        if self.zone is None or len(confirmed) == 0:
            return hits
        if self._counter is None:
            self._counter = self.zone.counter(width, height)
        if isinstance(self._counter, sv.LineZone):
            crossed_in, crossed_out = self._counter.trigger(tracked[confirmed])
            hits[confirmed] = crossed_in | crossed_out
        else:
            hits[confirmed] = self._counter.trigger(tracked[confirmed])
        return hits


@dataclass
class Person:
    """One track's evidence: when it was seen, its class votes, whether it met the zone."""

    track_id: int
    first_s: float
    last_step: int = 0  # the counter's frame number when last seen (processed frames, whatever the stride)
    last_s: float = 0.0
    frames: int = 0
    votes: Counter = field(default_factory=Counter)
    confidence_sum: float = 0.0
    counted: bool = False  # entered the zone / crossed the line (always, without a zone)

    def see(self, step: int, now_s: float, label: str, confidence: float, hit: bool) -> None:
        self.last_step, self.last_s = step, now_s
        self.frames += 1
        self.votes[label] += 1
        self.confidence_sum += confidence
        self.counted |= hit

    @property
    def verdict(self) -> str:
        return max(self.votes, key=lambda c: (self.votes[c], c != MASK))  # a tie is not called masked

    def row(self, source: str = "") -> dict[str, Any]:
        return {
            "source": source, "track_id": self.track_id, "first_seen_s": round(self.first_s, 2),
            "last_seen_s": round(self.last_s, 2), "frames_seen": self.frames, "verdict": self.verdict,
            "confidence": round(self.votes[self.verdict] / self.frames, 3),
            "mean_detection_confidence": round(self.confidence_sum / self.frames, 3),
        }  # fmt: skip


class PersonBook:
    """The people whose tracks may still go on, oldest sighting first. The tracker drops a track lost
    for more than `lost_frames` frames and never reuses its id, so such a person is handed back as
    settled: the book holds only the people in view or recently lost, however long the stream."""

    def __init__(self, lost_frames: int):
        self.lost_frames = lost_frames
        self._people: OrderedDict[int, Person] = OrderedDict()

    def __len__(self) -> int:
        return len(self._people)

    def __iter__(self) -> Iterator[Person]:
        return iter(self._people.values())

    def see(self, track_id: int, step: int, now_s: float, label: str, confidence: float, hit: bool) -> None:
        """Record a sighting; the person moves to the end, which keeps the book in order of last sighting."""
        person = self._people.pop(track_id, None) or Person(track_id, now_s)
        self._people[track_id] = person
        person.see(step, now_s, label, confidence, hit)

    def settled(self, step: int) -> Iterator[Person]:
        """Remove and yield the people unseen for more than `lost_frames` (only the oldest are looked at)."""
        while self._people and step - next(iter(self._people.values())).last_step > self.lost_frames:
            yield self._people.popitem(last=False)[1]

    def drain(self) -> Iterator[Person]:
        """Remove and yield everyone: the stream has ended."""
        while self._people:
            yield self._people.popitem(last=False)[1]

    def first_seen_s(self) -> float | None:
        """When the earliest-arrived person still held was first seen: no interval before can change."""
        return min((p.first_s for p in self._people.values()), default=None)


@dataclass
class Totals:
    """People and masked people, counted as they settle: all that is kept of the people of a stream
    (or of an interval) once they are written."""

    people: int = 0
    masked: int = 0

    def add(self, person: Person) -> None:
        self.people += 1
        self.masked += person.verdict == MASK

    def row(self) -> dict[str, Any]:
        return {"people": self.people, "masked": self.masked, "unmasked": self.people - self.masked,
                "compliance_rate": round(self.masked / self.people, 3) if self.people else None}  # fmt: skip


class IntervalTally:
    """Settled people per `seconds` of stream time, by the interval each was first seen in. Intervals are
    handed out in order, each once no one still unsettled can join it, and then forgotten; only the
    intervals still open are held."""

    def __init__(self, seconds: float):
        if seconds <= 0:
            raise ValueError(f"--interval must be more than 0 seconds, not {seconds:g}")
        self.seconds = seconds
        self.written = 0  # intervals handed out; the next one has this index
        self._open: dict[int, Totals] = {}

    def __len__(self) -> int:
        return len(self._open)

    def index(self, t: float) -> int:
        """The interval that time `t` falls in; every boundary test goes through here, so a person can
        never land in an interval already handed out."""
        return int(t // self.seconds)

    def add(self, person: Person) -> None:
        self._open.setdefault(self.index(person.first_s), Totals()).add(person)

    def settle(self, until_s: float) -> Iterator[dict[str, Any]]:
        """Rows of the intervals that end by `until_s`: the stream time, or earlier if someone first seen
        before then is still unsettled."""
        while self.written < self.index(until_s):
            yield self._next_row()

    def rest(self, now_s: float) -> Iterator[dict[str, Any]]:
        """At the end of the stream: the rows of every interval up to the one `now_s` falls in."""
        while self.written <= self.index(now_s):
            yield self._next_row()

    def _next_row(self) -> dict[str, Any]:
        i, self.written = self.written, self.written + 1
        totals = self._open.pop(i, None) or Totals()
        return {"start_s": round(i * self.seconds, 2), "end_s": round((i + 1) * self.seconds, 2), **totals.row()}


class RowWriter:
    """A CSV file written a row at a time and flushed at once, so a stream stopped at any moment keeps
    every row written so far."""

    def __init__(self, path: Path, columns: list[str]):
        self._file = path.open("w", newline="")
        self._csv = csv.DictWriter(self._file, columns)
        self._csv.writeheader()
        self._file.flush()

    def write(self, row: dict[str, Any]) -> None:
        self._csv.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_intervals(path: Path) -> list[dict[str, Any]]:
    """The compliance CSV back as rows of numbers: the JSON and the chart are made from the file at
    close, so the intervals of a long stream need not be kept in memory while it runs."""
    with path.open(newline="") as f:
        return [{"start_s": float(r["start_s"]), "end_s": float(r["end_s"]), "people": int(r["people"]),
                 "masked": int(r["masked"]), "unmasked": int(r["unmasked"]),
                 "compliance_rate": float(r["compliance_rate"]) if r["compliance_rate"] else None}
                for r in csv.DictReader(f)]  # fmt: skip


def compliance_chart(intervals: list[dict[str, Any]], seconds: float, totals: dict[str, Any], path: Path) -> None:
    """People per interval (masked and unmasked bars) and the compliance rate, as a PNG."""
    share = "n/a" if totals["compliance_rate"] is None else f"{totals['compliance_rate']:.0%}"
    people_chart(intervals, {"compliance": intervals}, path, "time (s)",
                 f"{totals['people']} people, {totals['masked']} masked ({share}), per {seconds:g} s")  # fmt: skip


def people_chart(bars: list[dict[str, Any]], rates: dict[str, list[dict[str, Any]]], path: Path, xlabel: str,
                 title: str, bar_label: str = "") -> None:  # fmt: skip
    """Masked and unmasked people per interval of `bars` (stacked), and the compliance rate of each of
    `rates`' interval lists as a line (one for a video, one per camera over several), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    starts = [b["start_s"] for b in bars]
    widths = [(b["end_s"] - b["start_s"]) * 0.9 for b in bars]
    masked = [b["masked"] for b in bars]
    ax.bar(starts, masked, width=widths, align="edge", color="tab:green", label=f"masked{bar_label}")
    ax.bar(starts, [b["unmasked"] for b in bars], width=widths, align="edge", bottom=masked, color="tab:red",
           label=f"unmasked{bar_label}")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("people")
    rate = ax.twinx()
    for label, intervals in rates.items():
        rate.plot([(b["start_s"] + b["end_s"]) / 2 for b in intervals],
                  [np.nan if b["compliance_rate"] is None else b["compliance_rate"] for b in intervals], "o-",
                  label=label, **({"color": "black"} if len(rates) == 1 else {}))  # fmt: skip
    rate.set_ylim(0, 1.05)
    rate.set_ylabel("compliance rate")
    ax.set_title(title)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)


class ComplianceCounter:
    """Follows faces through one video or stream: the tracker, the zone, the book of people in view,
    the totals and intervals and their files, wired together. With a `save_dir`, writes there
    `<stem>_people.csv` and `<stem>_compliance.csv` (rows flushed as they settle), and at close
    `<stem>_compliance.png` and `<stem>_tracking.json` (totals and intervals; the people are in the
    CSV); without one (the app) it only counts. Rows name the `source`; with `people_csv` (several cameras)
    they go to that shared file instead of one of the counter's own. `on_person` is also given each counted
    person's row as they settle (the app lists the people of its short videos).

    `fps` is the source's frame rate and `stride` the --vid-stride: the tracker sees fps/stride frames
    a second, and a frame's time is its index over fps (the wall clock for live sources)."""

    def __init__(self, save_dir: Path | None, stem: str, names: dict[int, str], fps: float | None, stride: int = 1,
                 min_track_frames: int = 5, interval_s: float = 60.0, zone: Zone | None = None,
                 tracker: str = "bytetrack.yaml", on_person: Callable[[dict[str, Any]], None] | None = None,
                 source: str = "", people_csv: RowWriter | None = None):  # fmt: skip
        self.intervals = IntervalTally(interval_s)
        self.names = names
        self.fps = fps or DEFAULT_FPS
        self.tracker = FaceTracker(tracker, self.fps / stride)
        self.started = time.monotonic()
        self.min_frames, self.zone, self.on_person = min_track_frames, zone, on_person
        self.gate = ZoneGate(zone)
        # The tracker drops a lost track one update after lost_frames; until then it may hand the id back.
        self.book = PersonBook(self.tracker.lost_frames + 1)
        self.totals = Totals()
        self.ignored = 0  # tracks too short, or that never met the zone
        self.source = source
        outputs = ("compliance.csv", "compliance.png", "tracking.json") + (() if people_csv else ("people.csv",))
        self.paths = {k: save_dir / f"{stem}_{k}" for k in outputs} if save_dir else {}
        self._shared_people = people_csv is not None
        self._people_csv = people_csv or (RowWriter(self.paths["people.csv"], PEOPLE_COLUMNS) if save_dir else None)
        self._intervals_csv = RowWriter(self.paths["compliance.csv"], BUCKET_COLUMNS) if save_dir else None
        self.frames, self.now_s, self._closed = 0, 0.0, False

    def update(self, frame: Frame, detections: sv.Detections) -> sv.Detections:
        """Track one frame's detections; returns them all, with tracker ids (-1: not in a track yet)."""
        now_s = time.monotonic() - self.started if frame.live else frame.index / self.fps
        tracked = self.tracker.update(detections, frame.image)
        self.count(tracked, now_s, frame.image.shape[1], frame.image.shape[0])
        return tracked

    def count(self, tracked: sv.Detections, now_s: float, width: int, height: int) -> None:
        """Count one frame of detections whose `tracker_id` is set (-1: no track), seen at `now_s` in a
        `width` x `height` frame: the half of `update` after the tracker."""
        self.frames, self.now_s = self.frames + 1, now_s
        hits = self.gate.hits(tracked, width, height)
        for i in np.flatnonzero(tracked.tracker_id >= 0):
            label = self.names[int(tracked.class_id[i])]
            self.book.see(int(tracked.tracker_id[i]), self.frames, now_s, label, float(tracked.confidence[i]),
                          bool(hits[i]))  # fmt: skip
        for person in self.book.settled(self.frames):
            self._settle(person)
        earliest = self.book.first_seen_s()
        self._write_intervals(self.intervals.settle(now_s if earliest is None else min(now_s, earliest)))

    def _counts(self, person: Person) -> bool:
        return person.frames >= self.min_frames and person.counted

    def _settle(self, person: Person) -> None:
        if not self._counts(person):
            self.ignored += 1
            return
        self.totals.add(person)
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

    def draw(self, image: np.ndarray) -> np.ndarray:
        """The zone or line and the running tally, on an annotated frame."""
        if self.zone is not None:
            draw_zone(image, self.zone.in_pixels(image.shape[1], image.shape[0]))
        return draw_tally(image, self.tally_text())

    def tally(self) -> dict[str, Any]:
        """People so far (settled, and current tracks long enough to count), for the on-video overlay."""
        totals = replace(self.totals)
        for person in self.book:
            if self._counts(person):
                totals.add(person)
        return totals.row()

    def tally_text(self) -> str:
        """The running tally drawn on tracked video: 'people 5  masked 3 (60%)  unmasked 2'."""
        t = self.tally()
        rate = "" if t["compliance_rate"] is None else f" ({t['compliance_rate']:.0%})"
        return f"people {t['people']}  masked {t['masked']}{rate}  unmasked {t['unmasked']}"

    def close(self) -> dict[str, Any]:
        """Settle everyone still held, write the last intervals, the summary JSON and the chart."""
        if self._closed:
            return self.summary()
        self._closed = True
        for person in self.book.drain():
            self._settle(person)
        self._write_intervals(self.intervals.rest(self.now_s))
        for writer in (None if self._shared_people else self._people_csv, self._intervals_csv):
            if writer is not None:
                writer.close()
        summary = self.summary()
        if self.paths:
            intervals = read_intervals(self.paths["compliance.csv"])
            self.paths["tracking.json"].write_text(json.dumps({**summary, "buckets": intervals}, indent=2) + "\n")
            compliance_chart(intervals, self.intervals.seconds, summary, self.paths["compliance.png"])
        return summary

    def summary(self) -> dict[str, Any]:
        """The totals and settings of the run; people are not kept here (see the people CSV, `on_person`)."""
        return {
            **self.tally(), "frames": self.frames, "duration_s": round(self.now_s, 2), "fps": self.fps,
            "min_track_frames": self.min_frames, "interval_s": self.intervals.seconds,
            "ignored_tracks": self.ignored, "zone": None if self.zone is None else self.zone.points.tolist(),
            "files": {k: str(v) for k, v in self.paths.items()},
        }  # fmt: skip
