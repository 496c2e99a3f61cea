"""Counting faces per class, for each image and for a whole run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import supervision as sv

from facemask.classes import MASK


def class_counts(detections: sv.Detections, names: dict[int, str]) -> dict[str, int]:
    """Faces per class name, every class of the model listed (zeros included)."""
    found = Counter(int(c) for c in detections.class_id) if len(detections) else Counter()
    return {name: found.get(i, 0) for i, name in sorted(names.items())}


def format_counts(counts: dict[str, int]) -> str:
    """'2 Mask, 1 No Mask', or 'no faces'."""
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "no faces"


def share_masked(counts: dict[str, int]) -> float | None:
    """Mask / (Mask + everything else); None when no face was seen."""
    total = sum(counts.values())
    return counts.get(MASK, 0) / total if total else None


@dataclass
class RunSummary:
    """Totals of a detect run; counters only, so memory stays flat on endless streams."""

    images: int = 0
    frames: int = 0
    faces: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    ms: float = 0.0  # summed pre-process + inference + post-process time

    def add(self, counts: dict[str, int], speed_ms: dict[str, float], is_video: bool) -> None:
        if is_video:
            self.frames += 1
        else:
            self.images += 1
        self.faces.update(counts)
        self.ms += sum(speed_ms.values())

    def line(self) -> str:
        done = self.images + self.frames
        faces = sum(self.faces.values())
        masked = share_masked(dict(self.faces))
        seen = [f"{self.frames} video frames"] if self.frames else []
        if self.images or not self.frames:
            seen.insert(0, f"{self.images} images")
        parts = [", ".join(seen),
                 f"{faces} faces ({', '.join(f'{n} {c}' for c, n in self.faces.items() if n) or 'none'})"]  # fmt: skip
        if masked is not None:
            parts.append(f"{masked:.0%} masked")
        if done:
            parts.append(f"{self.ms / done:.1f} ms per image")
        if self.skipped:
            parts.append(
                f"skipped {sum(self.skipped.values())} ({', '.join(f'{n} {r}' for r, n in self.skipped.items())})"
            )
        return "Summary: " + "; ".join(parts)

    def to_dict(self) -> dict:
        return {"images": self.images, "frames": self.frames, "faces": dict(self.faces),
                "share_masked": share_masked(dict(self.faces)), "skipped": dict(self.skipped),
                "ms_per_image": self.ms / max(1, self.images + self.frames)}  # fmt: skip
