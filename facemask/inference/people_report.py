"""People per source and in total: the summary of a tracked run over one or many sources (cameras).

Each source's people counter (facemask.inference.tracking) writes its own intervals as it goes; when a
source is done, its summary comes here; at the end of the run this sink adds the sources up, interval
by interval (each source's time starts at its own first frame), and draws one chart of them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facemask.inference.pipeline import BaseSink
from facemask.inference.tracking import people_chart, read_intervals

TOTAL_KEYS = ("people", "masked", "unmasked")


def _rate(row: dict[str, Any]) -> float | None:
    counted = row["masked"] + row["unmasked"]
    return round(row["masked"] / counted, 4) if counted else None


class PeopleReport(BaseSink):
    def __init__(self, chart: Path | None = None):
        """`chart`: where to draw every source's compliance over time (None: no chart)."""
        self.chart = chart
        self.sources: dict[str, dict[str, Any]] = {}

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        csv_path = people.get("files", {}).get("compliance.csv")
        buckets = read_intervals(Path(csv_path)) if csv_path else []
        self.sources[source] = {**people, "buckets": buckets}

    def to_dict(self) -> dict[str, Any]:
        """{"total": people, masked, unmasked, compliance_rate, buckets; "sources": the same per source}."""
        total: dict[str, Any] = {k: sum(s[k] for s in self.sources.values()) for k in TOTAL_KEYS}
        total["compliance_rate"] = _rate(total)
        by_start: dict[float, dict[str, Any]] = {}
        for s in self.sources.values():
            for b in s["buckets"]:
                row = by_start.setdefault(b["start_s"], {"start_s": b["start_s"], "end_s": b["end_s"],
                                                         **dict.fromkeys(TOTAL_KEYS, 0)})  # fmt: skip
                for k in TOTAL_KEYS:
                    row[k] += b[k]
        total["buckets"] = [{**row, "compliance_rate": _rate(row)} for _, row in sorted(by_start.items())]
        return {"total": total, "sources": self.sources}

    def close(self) -> None:
        if self.chart is not None and self.sources:
            sources_chart(self.to_dict(), self.chart)


def sources_chart(report: dict[str, Any], path: Path) -> None:
    """People per interval in total (bars) and each source's compliance rate over time (lines), as a PNG."""
    total = report["total"]
    share = "n/a" if total["compliance_rate"] is None else f"{total['compliance_rate']:.0%}"
    rates = {f"{Path(name).name}: compliance": s["buckets"] for name, s in report["sources"].items()}
    people_chart(total["buckets"], rates, path, "time since each source's first frame (s)",
                 f"{len(report['sources'])} sources counted: {total['people']} people, {total['masked']} masked "
                 f"({share})", bar_label=" (all sources)")  # fmt: skip
