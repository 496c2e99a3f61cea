"""Counting faces per class, for each image and for a whole run, and the one compliance rate: the share
of masked people (or faces) in a Tally."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import supervision as sv

from facemask.classes import MASK

RATE_DIGITS = 3  # a rate is kept, written and shown to three decimals (0.333), everywhere


def plural(n: int, noun: str) -> str:
    """'1 image', '3 images': a count as people read it (people_text for people)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def people_text(n: int, what: str = "") -> str:
    """'1 person', '5 people', '1 unmasked person': how every line that people read says a count."""
    return f"{n} {what + ' ' if what else ''}{'person' if n == 1 else 'people'}"


@dataclass
class Tally:
    """Masked and unmasked people (or faces), and the compliance rate of them: the share masked. Every
    verdict other than Mask (No Mask, Incorrect) is unmasked: a compliance rate counts who is masked."""

    masked: int = 0
    unmasked: int = 0

    @classmethod
    def of_counts(cls, counts: dict[str, int]) -> Tally:
        """The tally of faces per class name (`class_counts`): Mask against everything else."""
        masked = counts.get(MASK, 0)
        return cls(masked, sum(counts.values()) - masked)

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Tally:
        """The tally of a row with `masked` and `unmasked` (`row()`, a CSV row read back)."""
        return cls(int(row["masked"]), int(row["unmasked"]))

    @property
    def people(self) -> int:
        return self.masked + self.unmasked

    @property
    def rate(self) -> float | None:
        """The share masked, rounded to RATE_DIGITS; None for nobody (a rate of no one is not 0)."""
        return round(self.masked / self.people, RATE_DIGITS) if self.people else None

    @property
    def people_text(self) -> str:
        return people_text(self.people)

    @property
    def percent(self) -> str:
        """The rate as people read it: '60%', or 'n/a' for nobody."""
        return "n/a" if self.rate is None else f"{self.rate:.0%}"

    def add(self, verdict: str) -> None:
        """One more person (or face) of this verdict (class name)."""
        if verdict == MASK:
            self.masked += 1
        else:
            self.unmasked += 1

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.masked + other.masked, self.unmasked + other.unmasked)

    def row(self) -> dict[str, Any]:
        """people, masked, unmasked, compliance_rate: the columns of every file and summary that counts."""
        return {"people": self.people, "masked": self.masked, "unmasked": self.unmasked, "compliance_rate": self.rate}


def class_counts(detections: sv.Detections, names: dict[int, str]) -> dict[str, int]:
    """Faces per class name, every class of the model listed (zeros included)."""
    found = Counter(int(c) for c in detections.class_id) if len(detections) else Counter()
    return {name: found.get(i, 0) for i, name in sorted(names.items())}


def format_counts(counts: dict[str, int]) -> str:
    """'2 Mask, 1 No Mask', or 'no faces'."""
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "no faces"


@dataclass
class RunSummary:
    """Totals of a detect run; counters only, so memory stays flat on endless streams."""

    images: int = 0
    frames: int = 0
    faces: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    outages: Counter = field(default_factory=Counter)  # reason -> times a camera or stream went down
    ms: float = 0.0  # summed pre-process + inference + post-process time
    failure: str | None = None  # why the run failed as a whole (detect.py exits 1): ConsoleSink says

    def add(self, counts: dict[str, int], speed_ms: dict[str, float], is_video: bool) -> None:
        if is_video:
            self.frames += 1
        else:
            self.images += 1
        self.faces.update(counts)
        self.ms += sum(speed_ms.values())

    def line(self) -> str:
        done = self.images + self.frames
        faces = Tally.of_counts(dict(self.faces))
        seen = [plural(self.frames, "video frame")] if self.frames else []
        if self.images or not self.frames:
            seen.insert(0, plural(self.images, "image"))
        per_class = ", ".join(f"{n} {c}" for c, n in self.faces.items() if n) or "none"
        parts = [", ".join(seen), f"{plural(faces.people, 'face')} ({per_class})"]
        if faces.rate is not None:
            parts.append(f"{faces.percent} masked")
        if done:
            parts.append(f"{self.ms / done:.1f} ms per image")
        if self.skipped:
            parts.append(f"skipped {sum(self.skipped.values())} ({_by_reason(self.skipped)})")
        if self.outages:
            parts.append(f"{plural(sum(self.outages.values()), 'outage')} ({_by_reason(self.outages)})")
        return "Summary: " + "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "images": self.images,
            "frames": self.frames,
            "faces": dict(self.faces),
            "compliance_rate": Tally.of_counts(dict(self.faces)).rate,
            "skipped": dict(self.skipped),
            "outages": dict(self.outages),
            "ms_per_image": self.ms / max(1, self.images + self.frames),
        } | ({"failure": self.failure} if self.failure else {})


def _by_reason(counts: Counter) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in counts.items())
