"""People per source and in total: the summary of a tracked run over one or many sources (cameras).

Each source's people counter (facemask.inference.tracking) writes its own intervals as it goes; when a
source is done, its summary comes here; at the end of the run this sink adds the sources up, interval
by interval (each source's time starts when it was first read: its first frame, or a camera's first
failure), and draws one chart of them all. A camera that never sent a frame is listed with the error that
kept it away, and its intervals (no frames) are in the total, not drawn as a line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facemask.files import source_label
from facemask.inference.charts import sources_chart
from facemask.inference.counting import Tally
from facemask.inference.media import Frame
from facemask.inference.people_files import read_intervals
from facemask.inference.pipeline import BaseSink, FrameResult


class PeopleReport(BaseSink):
    def __init__(self, chart: Path | None = None):
        """`chart`: where to draw every source's compliance over time (None: no chart)."""
        self.chart = chart
        self.sources: dict[str, dict[str, Any]] = {}  # by source as shown: a camera's login never reaches them
        self._names: dict[str, str] = {}  # each source's name, as its files are named

    def write(self, result: FrameResult) -> None:
        self._names.setdefault(result.frame.source, result.frame.name)

    def skip(self, frame: Frame) -> None:
        """A video source that fails before its first frame is listed too, with nothing counted and its
        last error (its people, if it opens later, take the place of this; its error stays while it has
        sent no frame)."""
        self._names.setdefault(frame.source, frame.name)
        label = source_label(frame.source)
        listed = self.sources.get(label)
        if frame.is_video and frame.error and (listed is None or "error" in listed):
            self.sources[label] = {
                "name": frame.name,
                **Tally().row(),
                "frames": 0,
                "intervals": [],
                "error": frame.error,
            }

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        csv_path = people.get("files", {}).get("compliance.csv")
        intervals = read_intervals(Path(csv_path)) if csv_path else []
        name = self._names.get(source, Path(source).stem)
        error = self.sources.get(source_label(source), {}).get("error") if not people.get("frames") else None
        self.sources[source_label(source)] = {
            "name": name,
            **people,
            "intervals": intervals,
            **({"error": error} if error else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        """{"total": people, masked, unmasked, compliance_rate, intervals; "sources": the same per source}."""
        total = sum((Tally.of_row(s) for s in self.sources.values()), Tally())
        by_start: dict[float, tuple[float, int, Tally]] = {}  # start: (end, frames, tally); a source's last
        for s in self.sources.values():  # interval ends where it ended, so the interval ends with the longest
            for row in s["intervals"]:
                end, frames, tally = by_start.get(row["start_s"], (row["end_s"], 0, Tally()))
                by_start[row["start_s"]] = (max(end, row["end_s"]), frames + row["frames"], tally + Tally.of_row(row))
        intervals = [
            {"start_s": start, "end_s": end, "frames": frames, **t.row()}
            for start, (end, frames, t) in sorted(by_start.items())
        ]
        return {"total": {**total.row(), "intervals": intervals}, "sources": self.sources}

    def close(self) -> None:
        if self.chart is not None and any(s["intervals"] for s in self.sources.values()):
            sources_chart(self.to_dict(), self.chart)
