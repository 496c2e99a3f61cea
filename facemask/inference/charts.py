"""Charts of counted people: masked and unmasked people per interval and the compliance rate over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facemask.inference.counting import Tally, plural
from facemask.inference.streams import unique_names


def compliance_chart(intervals: list[dict[str, Any]], seconds: float, tally: Tally, path: Path) -> None:
    """One source's people per interval (masked and unmasked bars) and its compliance rate, as a PNG."""
    title = f"{tally.people_text}, {tally.masked} masked ({tally.percent}), per {seconds:g} s"
    down = [(b["start_s"], b["end_s"]) for b in intervals if b["frames"] == 0]  # no frames came: down, not empty
    people_chart(intervals, {"compliance": intervals}, path, "time (s)", title, down=down)


def sources_chart(report: dict[str, Any], path: Path) -> None:
    """People per interval in total (bars) and each source's compliance rate over time (lines), as a PNG;
    `report` is facemask.inference.people_report.PeopleReport.to_dict()."""
    total, sources = report["total"], report["sources"]
    # named as their files are (a/door.mp4 and b/door.mp4 are door, door_2); one never opened has no line
    counted = [s for s in sources.values() if s["intervals"] and "error" not in s]  # error: it sent no frame
    names = unique_names([s["name"] for s in counted])
    rates = {f"{n}: compliance": s["intervals"] for n, s in zip(names, counted, strict=True)}
    tally = Tally.of_row(total)
    title = f"{plural(len(rates), 'source')} counted: {tally.people_text}, {tally.masked} masked ({tally.percent})"
    xlabel = "time since each source was first read (s)"
    people_chart(total["intervals"], rates, path, xlabel, title, bar_label=" (all sources)")


def people_chart(
    bars: list[dict[str, Any]],
    rates: dict[str, list[dict[str, Any]]],
    path: Path,
    xlabel: str,
    title: str,
    bar_label: str = "",
    down: Sequence[tuple[float, float]] = (),
) -> None:
    """Masked and unmasked people per interval of `bars` (stacked), the `down` spans (start, end) grey, and
    the compliance rate of each of `rates`' interval lists as a line (one for a video, one per camera over
    several), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(9, 3.8))
    starts = [b["start_s"] for b in bars]
    widths = [(b["end_s"] - b["start_s"]) * 0.9 for b in bars]
    masked = [b["masked"] for b in bars]
    unmasked = [b["unmasked"] for b in bars]
    ax.bar(starts, masked, width=widths, align="edge", color="tab:green", label=f"masked{bar_label}")
    ax.bar(starts, unmasked, width=widths, align="edge", bottom=masked, color="tab:red", label=f"unmasked{bar_label}")
    for i, (start, end) in enumerate(down):
        ax.axvspan(start, end, color="0.85", zorder=0, label=None if i else "no frames (source down)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("people")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole people: no tick at 0.2 of one
    ax.set_ylim(0, max([1, *(m + u for m, u in zip(masked, unmasked, strict=True))]) * 1.05)  # nobody: 0 to 1
    rate = ax.twinx()
    for label, intervals in rates.items():
        middles = [(b["start_s"] + b["end_s"]) / 2 for b in intervals]
        values = [np.nan if b["compliance_rate"] is None else b["compliance_rate"] for b in intervals]
        rate.plot(middles, values, "o-", label=label, **({"color": "black"} if len(rates) == 1 else {}))
    rate.set_ylim(0, 1.05)
    rate.set_ylabel("compliance rate")
    ax.set_title(title)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
