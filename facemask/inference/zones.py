"""Where people count (`--zone`): a polygon they must enter or a line they must cross."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv


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

    def counter(self, width: int, height: int) -> sv.LineZone | sv.PolygonZone:
        """supervision's zone for a `width` x `height` frame; a face triggers it by its centre."""
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
