"""People, not boxes: faces followed across frames, one verdict per person, compliance over time.

Tracking is ultralytics' ByteTrack or BoT-SORT, fed our supervision Detections. Each track becomes a
person once seen in `min_track_frames` frames (shorter tracks are flickers); the person's verdict is
the majority class over the frames in which the face was seen. With a zone (polygon) or a line, only
people whose track enters the zone or crosses the line count. People are written to a CSV as their
track ends, and time buckets as soon as every person first seen in them is settled, so a stream
stopped at any moment keeps its rows.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from facemask.annotate import draw_tally, draw_zone
from facemask.classes import MASK
from facemask.media import Frame

TRACKERS = ("bytetrack.yaml", "botsort.yaml")
DEFAULT_FPS = 25.0  # for a video that does not say its frame rate
PEOPLE_COLUMNS = ["track_id", "first_seen_s", "last_seen_s", "frames_seen", "verdict", "confidence",
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


@dataclass
class Person:
    track_id: int
    first_s: float
    last_step: int = 0  # the counter's frame number when last seen (processed frames, whatever the stride)
    last_s: float = 0.0
    frames: int = 0
    votes: Counter = field(default_factory=Counter)
    confidence_sum: float = 0.0
    counted: bool = False  # entered the zone / crossed the line (always, without a zone)

    @property
    def verdict(self) -> str:
        return max(self.votes, key=lambda c: (self.votes[c], c != MASK))  # a tie is not called masked

    def row(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id, "first_seen_s": round(self.first_s, 2), "last_seen_s": round(self.last_s, 2),
            "frames_seen": self.frames, "verdict": self.verdict,
            "confidence": round(self.votes[self.verdict] / self.frames, 3),
            "mean_detection_confidence": round(self.confidence_sum / self.frames, 3),
        }  # fmt: skip


class ComplianceCounter:
    """Follows faces through one video or stream. With a `save_dir`, writes there `<stem>_people.csv`,
    `<stem>_compliance.csv` (rows flushed as they settle), and at close `<stem>_compliance.png` and
    `<stem>_tracking.json`; without one (the app's live view) it only counts.

    `fps` is the source's frame rate and `stride` the --vid-stride: the tracker sees fps/stride frames
    a second, and a frame's time is its index over fps (the wall clock for live sources)."""

    def __init__(self, save_dir: Path | None, stem: str, names: dict[int, str], fps: float | None, stride: int = 1,
                 min_track_frames: int = 5, interval_s: float = 60.0, zone: Zone | None = None,
                 tracker: str = "bytetrack.yaml"):  # fmt: skip
        if interval_s <= 0:
            raise ValueError(f"--interval must be more than 0 seconds, not {interval_s:g}")
        self.names = names
        self.fps = fps or DEFAULT_FPS
        self.tracker = FaceTracker(tracker, self.fps / stride)
        self.started = time.monotonic()
        self.min_frames, self.interval, self.zone = min_track_frames, interval_s, zone
        outputs = ("people.csv", "compliance.csv", "compliance.png", "tracking.json")
        self.paths = {k: save_dir / f"{stem}_{k}" for k in outputs} if save_dir else {}
        self._files = [self.paths[k].open("w", newline="") for k in outputs[:2]] if save_dir else []
        self._people_csv = csv.DictWriter(self._files[0], PEOPLE_COLUMNS) if save_dir else None
        self._buckets_csv = csv.DictWriter(self._files[1], BUCKET_COLUMNS) if save_dir else None
        for writer in (self._people_csv, self._buckets_csv):
            if writer is not None:
                writer.writeheader()
        self.open: dict[int, Person] = {}
        self.done: list[Person] = []  # settled people that count
        self.buckets: list[dict[str, Any]] = []
        self.ignored = 0  # tracks too short, or that never met the zone
        self.frames, self.now_s, self._zone_counter, self._closed = 0, 0.0, None, False

    def update(self, frame: Frame, detections: sv.Detections) -> sv.Detections:
        """Track one frame's detections; returns them all, with tracker ids (-1: not in a track yet)."""
        self.frames += 1
        self.now_s = time.monotonic() - self.started if frame.live else frame.index / self.fps
        tracked = self.tracker.update(detections, frame.image)
        hits = self._zone_hits(tracked, frame.image)
        for i, tid in enumerate(tracked.tracker_id):
            if tid < 0:
                continue
            person = self.open.get(int(tid)) or Person(int(tid), self.now_s)
            self.open[int(tid)] = person
            person.last_step, person.last_s = self.frames, self.now_s
            person.frames += 1
            person.votes[self.names[int(tracked.class_id[i])]] += 1
            person.confidence_sum += float(tracked.confidence[i])
            person.counted |= bool(hits[i])
        for tid in [t for t, p in self.open.items() if self.frames - p.last_step > self.tracker.lost_frames]:
            self._settle(self.open.pop(tid))
        self._flush_buckets(final=False)
        return tracked

    def draw(self, image: np.ndarray) -> np.ndarray:
        """The zone or line and the running tally, on an annotated frame."""
        if self.zone is not None:
            draw_zone(image, self.zone.in_pixels(image.shape[1], image.shape[0]))
        return draw_tally(image, self.tally_text())

    def _zone_hits(self, tracked: sv.Detections, image: np.ndarray) -> np.ndarray:
        """Per detection: did its track enter the zone / cross the line this frame (always true without a
        zone). Only confirmed tracks go to supervision's zone, which keeps crossing state per track id."""
        hits = np.full(len(tracked), self.zone is None)
        confirmed = np.flatnonzero(tracked.tracker_id >= 0)
        if self.zone is None or len(confirmed) == 0:
            return hits
        if self._zone_counter is None:
            self._zone_counter = self.zone.counter(image.shape[1], image.shape[0])
        if self.zone.is_line:
            crossed_in, crossed_out = self._zone_counter.trigger(tracked[confirmed])
            hits[confirmed] = crossed_in | crossed_out
        else:
            hits[confirmed] = self._zone_counter.trigger(tracked[confirmed])
        return hits

    def _settle(self, person: Person) -> None:
        if person.frames >= self.min_frames and person.counted:
            self.done.append(person)
            if self._people_csv is not None:
                self._people_csv.writerow(person.row())
                self._files[0].flush()
        else:
            self.ignored += 1

    def _flush_buckets(self, final: bool) -> None:
        """Write every bucket that has ended and whose people are all settled (or all, at the end)."""
        while True:
            start = len(self.buckets) * self.interval
            end = start + self.interval
            if not final and (self.now_s < end or any(p.first_s < end for p in self.open.values())):
                return
            if final and start > self.now_s:
                return
            people = [p for p in self.done if start <= p.first_s < end]
            masked = sum(p.verdict == MASK for p in people)
            row = {"start_s": round(start, 2), "end_s": round(end, 2), "people": len(people), "masked": masked,
                   "unmasked": len(people) - masked,
                   "compliance_rate": round(masked / len(people), 3) if people else None}  # fmt: skip
            self.buckets.append(row)
            if self._buckets_csv is not None:
                self._buckets_csv.writerow(row)
                self._files[1].flush()

    def tally(self) -> dict[str, Any]:
        """People so far (settled and current tracks long enough to count), for the on-video overlay."""
        people = self.done + [p for p in self.open.values() if p.frames >= self.min_frames and p.counted]
        masked = sum(p.verdict == MASK for p in people)
        return {"people": len(people), "masked": masked, "unmasked": len(people) - masked,
                "compliance_rate": round(masked / len(people), 3) if people else None}  # fmt: skip

    def tally_text(self) -> str:
        """The running tally drawn on tracked video: 'people 5  masked 3 (60%)  unmasked 2'."""
        t = self.tally()
        rate = "" if t["compliance_rate"] is None else f" ({t['compliance_rate']:.0%})"
        return f"people {t['people']}  masked {t['masked']}{rate}  unmasked {t['unmasked']}"

    def close(self) -> dict[str, Any]:
        """Settle every open track, write the last buckets, the summary JSON and the chart."""
        if self._closed:
            return self.summary()
        self._closed = True
        for person in self.open.values():
            self._settle(person)
        self.open.clear()
        self._flush_buckets(final=True)
        for f in self._files:
            f.close()
        summary = self.summary()
        if self.paths:
            self.paths["tracking.json"].write_text(json.dumps(summary, indent=2) + "\n")
            self._chart()
        return summary

    def summary(self) -> dict[str, Any]:
        return {
            **self.tally(), "frames": self.frames, "duration_s": round(self.now_s, 2), "fps": self.fps,
            "min_track_frames": self.min_frames, "interval_s": self.interval, "ignored_tracks": self.ignored,
            "zone": None if self.zone is None else self.zone.points.tolist(),
            "people_list": [p.row() for p in self.done], "buckets": self.buckets,
            "files": {k: str(v) for k, v in self.paths.items()},
        }  # fmt: skip

    def _chart(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 3.5))
        starts = [b["start_s"] for b in self.buckets]
        ax.bar(starts, [b["masked"] for b in self.buckets], width=self.interval * 0.9, align="edge",
               color="tab:green", label="masked")  # fmt: skip
        ax.bar(starts, [b["unmasked"] for b in self.buckets], width=self.interval * 0.9, align="edge",
               bottom=[b["masked"] for b in self.buckets], color="tab:red", label="unmasked")  # fmt: skip
        ax.set_xlabel("time (s)")
        ax.set_ylabel("people")
        rate = ax.twinx()
        rate.plot([s + self.interval / 2 for s in starts],
                  [b["compliance_rate"] if b["compliance_rate"] is not None else np.nan for b in self.buckets],
                  "o-", color="black", label="compliance")  # fmt: skip
        rate.set_ylim(0, 1.05)
        rate.set_ylabel("compliance rate")
        t = self.tally()
        share = "n/a" if t["compliance_rate"] is None else f"{t['compliance_rate']:.0%}"
        ax.set_title(f"{t['people']} people, {t['masked']} masked ({share}), per {self.interval:g} s")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
        fig.savefig(self.paths["compliance.png"], dpi=100)
        plt.close(fig)
