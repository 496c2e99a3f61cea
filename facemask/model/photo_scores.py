"""Scores by group of photos: mAP, recall, No Mask recall and small-face recall for the whole split, its
crowd photos and each source, from one pass of detect.py's Detector.

A split's mean hides where a model fails: portraits are easy, crowds are what venues film. So every
evaluation leads with a row per group: all photos, the crowd photos (CROWD_FACES or more labelled faces)
and each source. One detection pass at the evaluation's low confidence gives both the mAP (supervision's
MeanAveragePrecision, COCO's 101-point AP) and, filtered at the working confidence, the recall.

Labels leave faces unboxed, most in crowds, and a model that finds one is scored as wrong. Faces a person
has checked (an audit's accepted `missing` candidates) can be given as ignore regions, much as COCO's
crowd regions are: a detection on one that could match no labelled face is neither right nor wrong.
(COCO matches labels first and measures a crowd region's overlap over the detection's own area; here an
ignore region is one face, so IoU, as for a labelled face.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import supervision as sv
from rich.console import Console
from rich.table import Table
from supervision.metrics import MeanAveragePrecision
from tqdm import tqdm

from facemask.data.dataset_files import load_labels, source_of
from facemask.images import UnreadableImage, load_image
from facemask.model import recall_breakdown

CROWD_FACES = 5  # a photo with at least this many labelled faces is a crowd photo
CROWD = f"crowd ({CROWD_FACES}+)"
HEADERS = {
    "photos": "n",
    "No Mask recall": "No Mask R",
    "<16 recall": "<16 R",
    "16-32 recall": "16-32 R",
    "recall": "R",
}
IGNORE_IOU = 0.5  # a detection that would have found an ignore region's face, were it labelled
MATCH_IOU = 0.5  # ... unless it overlaps a labelled face as much: it may be that face's match, so it stays
ROW_COLUMNS = ("photos", "faces", "mAP50", "mAP50-95", "recall", "No Mask recall", "<16 recall", "16-32 recall")


@dataclass(frozen=True)
class Photo:
    """One evaluated photo: its labels and the model's detections (at the evaluation's low confidence)."""

    name: str
    source: str
    labels: sv.Detections
    detections: sv.Detections
    long_side: int  # decoded pixels; face sizes are given with the photo scaled to SIZE_SCALE on this side

    @property
    def crowd(self) -> bool:
        return len(self.labels) >= CROWD_FACES


def collect_photos(
    images: Iterable[Path],
    detect: Callable[[np.ndarray], sv.Detections],
    sources: Sequence[str],
    progress: bool = True,
    ignore: Mapping[str, np.ndarray] | None = None,
) -> list[Photo]:
    """Run `detect` (a BGR image -> Detections) once over every readable image of a split, read upright
    (EXIF) and whole, as the merge wrote it and ultralytics' validation reads it. `ignore`: image stem ->
    its ignore regions (n x 4 xyxy, as fractions of the width and height), whose detections are dropped."""
    photos, ignore = [], ignore or {}
    for image in tqdm(list(images), desc="Scoring photos", unit="img", disable=not progress):
        try:
            bgr = cv2.cvtColor(np.asarray(load_image(image).image), cv2.COLOR_RGB2BGR)
        except UnreadableImage:
            continue
        height, width = bgr.shape[:2]
        labels = load_labels(image, width, height)
        regions = np.asarray(ignore.get(image.stem, np.empty((0, 4)))) * [width, height, width, height]
        detections = drop_ignored(detect(bgr), regions, labels)
        photos.append(Photo(image.stem, source_of(image.name, sources), labels, detections, max(height, width)))
    return photos


def drop_ignored(detections: sv.Detections, regions: np.ndarray, labels: sv.Detections) -> sv.Detections:
    """The detections less those on an ignore region (IoU >= IGNORE_IOU with one) that overlap no labelled
    face at MATCH_IOU: in a crowd an unlabelled face can sit beside a labelled one, and a detection between
    them must still be able to find the labelled face."""
    if not len(detections) or not len(regions):
        return detections
    on_region = sv.box_iou_batch(detections.xyxy, regions).max(axis=1) >= IGNORE_IOU
    if len(labels):
        on_region &= sv.box_iou_batch(detections.xyxy, labels.xyxy).max(axis=1) < MATCH_IOU
    return detections[~on_region]


def groups(photos: Sequence[Photo]) -> dict[str, list[Photo]]:
    """all, crowd, then each source in name order."""
    by_source = sorted({p.source for p in photos})
    return {
        "all": list(photos),
        CROWD: [p for p in photos if p.crowd],
        **{s: [p for p in photos if p.source == s] for s in by_source},
    }


def mean_ap(photos: Sequence[Photo]) -> tuple[float | None, float | None]:
    """mAP@0.5 and mAP@0.5:0.95 over the photos' labelled faces; None when there are none."""
    if not any(len(p.labels) for p in photos):
        return None, None
    result = MeanAveragePrecision().update([p.detections for p in photos], [p.labels for p in photos]).compute()
    return float(result.map50), float(result.map50_95)


def score(photos: Sequence[Photo], names: Sequence[str], recall_conf: float) -> dict[str, Any]:
    """One row: photos, faces, mAPs, and recall at `recall_conf` overall, of No Mask and of small faces."""
    faces = recall_breakdown.faces_of(photos, names, recall_conf)
    summary = recall_breakdown.summarise(faces)
    map50, map50_95 = mean_ap(photos)
    return {
        "photos": len(photos),
        "faces": summary["all"]["faces"],
        "mAP50": map50,
        "mAP50-95": map50_95,
        "recall": summary["all"]["recall"],
        "No Mask recall": _recall(summary["by_class"], "No Mask"),
        "<16 recall": _recall(summary["by_size"], "<16"),
        "16-32 recall": _recall(summary["by_size"], "16-32"),
    }


def _recall(tally: dict[str, dict[str, Any]], key: str) -> float | None:
    return tally[key]["recall"] if key in tally else None


def score_groups(photos: Sequence[Photo], names: Sequence[str], recall_conf: float) -> dict[str, dict[str, Any]]:
    return {group: score(members, names, recall_conf) for group, members in groups(photos).items()}


def _cell(value: float | int | None) -> str:
    return "-" if value is None else str(value) if isinstance(value, int) else f"{value:.3f}"


def print_table(rows: dict[str, dict[str, Any]], title: str, console: Console | None = None) -> None:
    """The lead table of an evaluation: a row per group of photos."""
    table = Table(title=title)
    table.add_column("photos", justify="left")
    for col in ROW_COLUMNS:
        table.add_column(HEADERS.get(col, col), justify="right")
    for group, row in rows.items():
        table.add_row(group, *(_cell(row[c]) for c in ROW_COLUMNS))
    (console or Console()).print(table)
