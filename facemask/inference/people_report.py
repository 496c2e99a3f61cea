"""People per source and in total: the summary of a tracked run over one or many sources (cameras).

Each source's people counter (facemask.inference.tracking) writes its own intervals as it goes; when a
source is done, its summary comes here; at the end of the run this sink adds the sources up, interval
by interval (each source's time starts at its own first frame), and draws one chart of them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facemask.inference.pipeline import BaseSink
from facemask.inference.tracking import read_intervals

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    total = report["total"]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    starts = [b["start_s"] for b in total["buckets"]]
    widths = [(b["end_s"] - b["start_s"]) * 0.9 for b in total["buckets"]]
    ax.bar(starts, [b["masked"] for b in total["buckets"]], width=widths, align="edge", color="tab:green",
           alpha=0.6, label="masked (all sources)")  # fmt: skip
    ax.bar(starts, [b["unmasked"] for b in total["buckets"]], width=widths, align="edge", color="tab:red",
           alpha=0.6, bottom=[b["masked"] for b in total["buckets"]], label="unmasked (all sources)")  # fmt: skip
    ax.set_xlabel("time since each source's first frame (s)")
    ax.set_ylabel("people")
    rate = ax.twinx()
    for name, s in report["sources"].items():
        mids = [(b["start_s"] + b["end_s"]) / 2 for b in s["buckets"]]
        rates = [np.nan if b["compliance_rate"] is None else b["compliance_rate"] for b in s["buckets"]]
        rate.plot(mids, rates, "o-", label=f"{Path(name).name}: compliance")
    rate.set_ylim(0, 1.05)
    rate.set_ylabel("compliance rate")
    share = "n/a" if total["compliance_rate"] is None else f"{total['compliance_rate']:.0%}"
    ax.set_title(f"{len(report['sources'])} sources: {total['people']} people, {total['masked']} masked ({share})")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
