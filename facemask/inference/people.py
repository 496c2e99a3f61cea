"""People, not boxes: one person per track with one verdict, the book of people whose tracks may go on,
and the tally of settled people per interval of stream time.

A camera may run for days, so nothing here grows with the length of the stream: a person lost for
longer than the tracker keeps lost tracks is settled and leaves the book, and an interval is handed
out and forgotten as soon as no one still unsettled can join it.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from facemask.classes import MASK
from facemask.inference.counting import Tally


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
        """The person's row of the people CSV (facemask.inference.people_files.PEOPLE_COLUMNS)."""
        return {
            "source": source,
            "track_id": self.track_id,
            "first_seen_s": round(self.first_s, 2),
            "last_seen_s": round(self.last_s, 2),
            "frames_seen": self.frames,
            "verdict": self.verdict,
            "confidence": round(self.votes[self.verdict] / self.frames, 3),
            "mean_detection_confidence": round(self.confidence_sum / self.frames, 3),
        }


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


class IntervalTally:
    """Settled people per `seconds` of stream time, by the interval each was first seen in, and the frames
    read in each: an interval of no frames is one the source was down for, not one nobody passed. Intervals
    are handed out in order, each once no one still unsettled can join it, and then forgotten; only the
    intervals still open are held."""

    def __init__(self, seconds: float):
        if seconds <= 0:
            raise ValueError(f"--interval must be more than 0 seconds, not {seconds:g}")
        self.seconds = seconds
        self.written = 0  # intervals handed out; the next one has this index
        self._open: dict[int, Tally] = {}
        self._frames: dict[int, int] = {}  # frames read, by open interval

    def __len__(self) -> int:
        return len(self._open)

    def index(self, t: float) -> int:
        """The interval that time `t` falls in; every boundary test goes through here, so a person can
        never land in an interval already handed out."""
        return int(t // self.seconds)

    def see(self, t: float) -> None:
        """A frame read at stream time `t` (before the intervals are settled at `t`); one of an interval
        already written (a file source read again from its start) is not counted twice."""
        i = self.index(t)
        if i >= self.written:
            self._frames[i] = self._frames.get(i, 0) + 1

    def add(self, person: Person) -> None:
        self._open.setdefault(self.index(person.first_s), Tally()).add(person.verdict)

    def settle(self, until_s: float) -> Iterator[dict[str, Any]]:
        """Rows of the intervals that end by `until_s`: the stream time, or earlier if someone first seen
        before then is still unsettled."""
        while self.written < self.index(until_s):
            yield self._next_row()

    def rest(self, now_s: float) -> Iterator[dict[str, Any]]:
        """At the end of the stream: the rows of every interval up to the one `now_s` (where it ends) falls
        in, the last ending at `now_s` (a 72-s clip's second minute is 60-72 s, not 60-120), and left out if
        that leaves it empty and of no width (a stream that ends on a boundary)."""
        last = self.index(now_s)
        if last * self.seconds >= now_s and last not in self._open and last not in self._frames:
            last -= 1
        while self.written <= last:
            yield self._next_row(min(now_s, (self.written + 1) * self.seconds))

    def _next_row(self, end_s: float | None = None) -> dict[str, Any]:
        i, self.written = self.written, self.written + 1
        tally, frames = self._open.pop(i, None) or Tally(), self._frames.pop(i, 0)
        end_s = (i + 1) * self.seconds if end_s is None else end_s
        return {"start_s": round(i * self.seconds, 2), "end_s": round(end_s, 2), "frames": frames, **tally.row()}
