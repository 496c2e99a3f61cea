"""Which faces a model misses: recall by face size, by class and by source, at a working confidence.

mAP ranks a model; a venue counting people needs to know what it misses: small faces, unmasked ones,
one source's photos. At detect.py's confidence (facemask.confidence) a labelled face counts as found when
a detection of its class overlaps it at IoU >= 0.5, each detection finding at most one face (greedy by
confidence, as COCO matching does). Face size is the square root of the box area with the photo scaled to
640 px on its long side, so a face's size bin does not depend on how large the photo file happens to be.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv
from rich.console import Console
from rich.table import Table

from facemask.confidence import DEFAULT_CONF

SIZE_EDGES = (16, 32, 64, 128)  # px: under 16, 16-32, 32-64, 64-128, 128 and over
SIZE_SCALE = 640  # face sizes are measured with the photo scaled to this many pixels on its long side
SIZE_NAMES = ("<16", "16-32", "32-64", "64-128", ">=128")
MATCH_IOU = 0.5


@dataclass(frozen=True)
class Face:
    """One labelled face and whether the model found it."""

    source: str
    cls: str
    size: float
    found: bool


def size_bin(size: float) -> str:
    return SIZE_NAMES[int(np.searchsorted(SIZE_EDGES, size, side="right"))]


def found_faces(labels: sv.Detections, detections: sv.Detections, iou: float = MATCH_IOU) -> np.ndarray:
    """For each label box, whether a detection of the same class matches it (one detection, one face)."""
    found = np.zeros(len(labels), bool)
    if not len(labels) or not len(detections):
        return found
    overlap = sv.box_iou_batch(detections.xyxy, labels.xyxy)  # (detections, labels)
    same = detections.class_id[:, None] == labels.class_id[None, :]
    order = np.argsort(-detections.confidence) if detections.confidence is not None else range(len(detections))
    for d in order:
        candidates = np.where(same[d] & ~found & (overlap[d] >= iou), overlap[d], -1.0)
        best = int(candidates.argmax())
        if candidates[best] >= iou:
            found[best] = True
    return found


def faces_of(photos: Iterable[Any], names: Sequence[str], conf: float) -> list[Face]:
    """Judge every labelled face of the photos (photo_scores.Photo) against their detections at `conf`."""
    faces: list[Face] = []
    for photo in photos:
        detections = photo.detections
        if detections.confidence is not None and len(detections):
            detections = detections[detections.confidence >= conf]
        found = found_faces(photo.labels, detections)
        scale = SIZE_SCALE / photo.long_side
        for box, cls, hit in zip(photo.labels.xyxy, photo.labels.class_id, found, strict=True):
            side = float(np.sqrt(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))) * scale
            faces.append(Face(photo.source, names[int(cls)], side, bool(hit)))
    return faces


def _tally(faces: Sequence[Face], group: Callable[[Face], str], order: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in faces:
        counts[group(f)][0] += 1
        counts[group(f)][1] += f.found
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return {
        k: {"faces": counts[k][0], "found": counts[k][1], "recall": round(counts[k][1] / counts[k][0], 4)} for k in keys
    }


def summarise(faces: Sequence[Face]) -> dict[str, Any]:
    """Faces, found and recall: overall, by size, class, source, and by size within each class."""
    by_size = lambda f: size_bin(f.size)  # noqa: E731
    return {
        "all": _tally(faces, lambda f: "all").get("all", {"faces": 0, "found": 0, "recall": None}),
        "by_size": _tally(faces, by_size, SIZE_NAMES),
        "by_class": _tally(faces, lambda f: f.cls),
        "by_source": _tally(faces, lambda f: f.source),
        "by_class_and_size": {
            c: _tally([f for f in faces if f.cls == c], by_size, SIZE_NAMES)
            for c in dict.fromkeys(f.cls for f in faces)
        },
    }


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    """Recall by size, class and source, one row per group."""
    table = Table(title=f"Faces found at confidence {result.get('conf', DEFAULT_CONF)} (IoU {MATCH_IOU})")
    for col in ("by", "group", "faces", "found", "recall"):
        table.add_column(col, justify="left" if col in ("by", "group") else "right")
    table.add_row("all", "", str(result["all"]["faces"]), str(result["all"]["found"]), f"{result['all']['recall']:.3f}")
    for by in ("by_size", "by_class", "by_source"):
        for i, (group, t) in enumerate(result[by].items()):
            table.add_row(by[3:] if i == 0 else "", group, str(t["faces"]), str(t["found"]), f"{t['recall']:.3f}")
        table.add_section()
    (console or Console()).print(table)


def save(result: dict[str, Any], folder: Path, plot: bool = True) -> list[Path]:
    """recall.json and (with `plot`) recall.png: bars of recall by size, class and source, with face counts."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "recall.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return [json_path, *([_plot(result, folder / "recall.png")] if plot else [])]


def _plot(result: dict[str, Any], png_path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("face size (px)", result["by_size"]), ("class", result["by_class"]), ("source", result["by_source"])]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), gridspec_kw={"width_ratios": [5, 2, 3]})
    for ax, (title, groups) in zip(axes, panels, strict=True):
        keys = list(groups)
        bars = ax.bar(keys, [groups[k]["recall"] for k in keys], color="tab:green")
        for bar, k in zip(bars, keys, strict=True):
            ax.annotate(
                f"{groups[k]['recall']:.2f}\n{groups[k]['faces']} faces",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_ylim(0, 1.25)
        ax.set_title(f"recall by {title}")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(
        f"Faces found at confidence {result.get('conf', DEFAULT_CONF)}, IoU {MATCH_IOU}: "
        f"{result['all']['found']} of {result['all']['faces']}"
    )
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
