"""The merge report: what was read, kept and dropped (and why), per source and class, and per split."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# Drop reasons, as they appear in the report.
UNREADABLE = "unreadable image"
MISSING_LABEL = "missing label"
EMPTY_LABEL = "empty label"
MALFORMED_LABEL = "malformed label"
INVALID_BOX = "invalid box"
UNKNOWN_CLASS = "unknown class"
INCORRECT_MASK = "incorrect mask"
DUPLICATE = "duplicate"
BLURRY = "blurry"
OVER_NEGATIVES_CAP = "over negatives cap"
REASONS = (
    UNREADABLE,
    MISSING_LABEL,
    EMPTY_LABEL,
    MALFORMED_LABEL,
    INVALID_BOX,
    UNKNOWN_CLASS,
    INCORRECT_MASK,
    DUPLICATE,
    BLURRY,
    OVER_NEGATIVES_CAP,
)
#: Bar colours of the drop reasons in report.png, in REASONS order; green is for images kept.
REASON_COLOURS = (
    "tab:brown",
    "tab:orange",
    "gold",
    "tab:pink",
    "tab:purple",
    "tab:gray",
    "tab:red",
    "tab:blue",
    "tab:cyan",
    "tab:olive",
)


def group_stats(sources: list[str], groups: Any) -> dict[str, dict[str, int]]:
    """Per source: kept photos, the groups they form, photos that have a copy, the largest group, and
    groups shared with another source (sets re-publish each other's photos)."""
    members: dict[int, list[str]] = defaultdict(list)
    for source, g in zip(sources, groups, strict=True):
        members[int(g)].append(source)
    stats: dict[str, dict[str, int]] = {}
    for source in dict.fromkeys(sources):
        mine = [m for m in members.values() if source in m]
        stats[source] = {
            "photos": sum(m.count(source) for m in mine),
            "groups": len(mine),
            "photos_with_copies": sum(m.count(source) for m in mine if len(m) > 1),
            "largest_group": max((len(m) for m in mine), default=0),
            "groups_shared_with_other_sources": sum(len(set(m)) > 1 for m in mine),
        }
    return stats


def _tally() -> dict[str, Any]:
    return {"read": 0, "kept": 0, "dropped": Counter()}


@dataclass
class MergeReport:
    """Counts filled in as samples are judged; `to_dict()` is what lands in report.json."""

    options: dict[str, Any] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(_tally))
    boxes: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(_tally))
    )
    skipped: list[dict[str, str]] = field(default_factory=list)
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, int]] = field(default_factory=dict)  # group_stats(): copies kept together
    kept_split: dict[str, Any] = field(default_factory=dict)  # --keep-split: file, photos listed, moved
    wall_time_s: float | None = None

    def add_image(
        self,
        source: str,
        file: str,
        box_classes: list[str],
        box_reasons: list[str | None],
        reason: str | None = None,
        detail: str = "",
    ) -> None:
        """Record one source image: its boxes' classes, each box's own drop reason (None if fine),
        and the image's drop reason (None if kept). A dropped image drops all of its boxes."""
        tally = self.images[source]
        tally["read"] += 1
        if reason is None:
            tally["kept"] += 1
        else:
            tally["dropped"][reason] += 1
            if reason != DUPLICATE:  # duplicates are expected, not problems to read through
                self.skipped.append({"source": source, "file": file, "reason": reason, "detail": detail})
        for cls, box_reason in zip(box_classes, box_reasons, strict=True):
            b = self.boxes[source][cls]
            b["read"] += 1
            why = box_reason or reason
            if why is None:
                b["kept"] += 1
            else:
                b["dropped"][why] += 1

    def dropped(self, reason: str) -> int:
        return sum(t["dropped"][reason] for t in self.images.values())

    def to_dict(self) -> dict[str, Any]:
        plain = lambda t: {"read": t["read"], "kept": t["kept"], "dropped": dict(t["dropped"])}  # noqa: E731
        return {
            "options": self.options,
            "sources": {
                s: {"images": plain(self.images[s]), "boxes": {c: plain(t) for c, t in self.boxes[s].items()}}
                for s in self.images
            },
            "splits": self.splits,
            "groups": self.groups,
            "kept_split": self.kept_split,
            "skipped": self.skipped,
            "wall_time_s": self.wall_time_s,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def plot(self, path: Path) -> None:
        """A picture of the report: per source, images kept and dropped by reason; per split, images."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sources = list(self.images)
        reasons = [r for r in REASONS if any(self.images[s]["dropped"][r] for s in sources)]
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [2.2, 1]})
        left = [0] * len(sources)
        for label, counts in [("kept", [self.images[s]["kept"] for s in sources])] + [
            (r, [self.images[s]["dropped"][r] for s in sources]) for r in reasons
        ]:
            colour = "tab:green" if label == "kept" else REASON_COLOURS[REASONS.index(label)]
            ax.barh(sources, counts, left=left, label=label, color=colour)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        ax.invert_yaxis()
        ax.set_xlabel("images")
        ax.set_title("Source images: kept and dropped (by reason)")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        splits = list(self.splits)
        bx.bar(splits, [self.splits[s]["photos"] for s in splits], label="photos", color="tab:blue")
        bx.bar(
            splits,
            [self.splits[s]["rotated"] for s in splits],
            bottom=[self.splits[s]["photos"] for s in splits],
            label="rotated copies",
            color="tab:cyan",
        )
        bx.bar(
            splits,
            [self.splits[s].get("sliced", 0) for s in splits],
            bottom=[self.splits[s]["photos"] + self.splits[s]["rotated"] for s in splits],
            label="sliced copies",
            color="tab:purple",
        )
        for i, s in enumerate(splits):
            bx.annotate(str(self.splits[s]["images"]), (i, self.splits[s]["images"]), ha="center", va="bottom")
        bx.set_title("Merged dataset: images per split")
        bx.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    def print(self, console: Console | None = None) -> None:
        """Two tables: sources (images and boxes per class, with drop reasons) and splits."""
        console = console or Console()
        t = Table(title="Sources", title_justify="left")
        for col in ("source", "what", "read", "kept", "dropped (reason: count)"):
            t.add_column(col, justify="right" if col in ("read", "kept") else "left")
        for s in self.images:
            rows = [("images", self.images[s])] + [(f"boxes {c}", b) for c, b in sorted(self.boxes[s].items())]
            for i, (what, tally) in enumerate(rows):
                reasons = ", ".join(f"{r}: {n}" for r, n in tally["dropped"].most_common())
                t.add_row(s if i == 0 else "", what, str(tally["read"]), str(tally["kept"]), reasons)
            t.add_section()
        console.print(t)
        if self.groups:
            gt = Table(title="Groups of copies (each group lands in one split)", title_justify="left")
            columns = next(iter(self.groups.values()))
            gt.add_column("source", no_wrap=True, min_width=max(len(s) for s in self.groups))  # whole, as above
            for col in columns:
                gt.add_column(col.replace("_", " "), justify="right")
            for source, stats in self.groups.items():
                gt.add_row(source, *(str(v) for v in stats.values()))
            console.print(gt)
        if self.kept_split:
            moved = ", ".join(f"{k}: {n}" for k, n in self.kept_split["moved"].items()) or "none"
            console.print(
                f"Kept the split of {self.kept_split['listed']} photos listed in {self.kept_split['file']}; "
                f"moved with a copy in an earlier split: {moved}"
            )
        if self.splits:
            names = sorted({c for v in self.splits.values() for c in v["boxes"]})
            st = Table(title="Splits", title_justify="left")
            for col in ("split", "photos", "rotated copies", "sliced copies", "images", *names):
                st.add_column(col, justify="left" if col == "split" else "right")
            for split, v in self.splits.items():
                st.add_row(
                    split,
                    str(v["photos"]),
                    str(v["rotated"]),
                    str(v.get("sliced", 0)),  # reports written before --slices have none
                    str(v["images"]),
                    *(str(v["boxes"].get(c, 0)) for c in names),
                )
            console.print(st)
