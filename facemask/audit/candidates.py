"""Label audit: where a model and a dataset's labels disagree, as candidates for a person to review.

Three kinds of candidate, each a box with a class:
- `missing`: a confident detection that no label box overlaps (a face the labeller skipped);
- `wrong_class`: a label box the model confidently calls another class, and never its own;
- `unfound`: a label box no detection comes near even at a low confidence (a stray or shifted box).
A second opinion (facemask.audit.second_opinion) adds `missing` faces that the model does not find.

A model agrees with the labels it was trained on, so photos it saw in training are found from its
checkpoint and audited, with `folds`, by models that did not see them (facemask.audit.folds).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import supervision as sv
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from facemask.data.dataset_files import DatasetError, load_dataset, load_labels, source_of, split_images
from facemask.data.labels import LabelError
from facemask.data.split import SPLITS
from facemask.errors import FacemaskError, warn
from facemask.inference.detector import Detector, DetectorSettings
from facemask.inference.media import Frame, read_image
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline
from facemask.paths import PROJECT_ROOT

KINDS = ("missing", "wrong_class", "unfound")
MISSING_IOU = 0.3  # a detection overlapping a label box less than this, with every box, is unlabelled
WRONG_CLASS_IOU = 0.5  # a detection this close to a label box is about the same face
UNFOUND_IOU = 0.3  # a label box no detection overlaps this much, at UNFOUND_CONF, is never found
UNFOUND_CONF = 0.05
MAX_WARNINGS = 20  # skipped images named one by one, as detect.py does


class AuditError(FacemaskError, ValueError):
    """An audit that cannot run as asked."""


@dataclass(frozen=True)
class Candidate:
    """A row of candidates.csv: box normalised (centre x, centre y, width, height) to its image. `cls`
    is the model's class for missing and wrong_class, the label's for unfound (whose `conf` is None).
    `source`: who found it, the audited model or a second opinion (then `conf` is that finder's)."""

    image: str  # relative to the dataset root, e.g. images/train/x.jpg
    kind: str
    cls: int
    conf: float | None
    cx: float
    cy: float
    w: float
    h: float
    source: str = "model"

    def xyxy(self, width: int, height: int) -> np.ndarray:
        """The box in pixels of an image of that size."""
        centre, half = np.array([self.cx, self.cy]), np.array([self.w, self.h]) / 2
        return np.concatenate([centre - half, centre + half]) * [width, height, width, height]


@dataclass
class AuditResult:
    """What an audit run wrote: its folder, every candidate, the summary per source."""

    save_dir: Path
    candidates: list[Candidate]
    summary: dict[str, Any]


@dataclass
class ImageAudit:
    """One audited image: what the summary counts; or one left out, and why (`skipped`)."""

    image: str
    labels: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    skipped: str | None = None  # e.g. "bad label (x.txt:2: w 5 is not from 0 to 1 ...)"

    @property
    def reason(self) -> str:
        """What the summary counts a skipped image under: its message before the detail."""
        return (self.skipped or "").split(" (")[0]


class SecondOpinion(Protocol):
    """A face finder independent of the audited model (facemask.audit.second_opinion)."""

    name: str  # the candidates' source

    def missing(
        self, image_bgr: np.ndarray, labels: sv.Detections, missing: sv.Detections, detections: sv.Detections
    ) -> sv.Detections:
        """Faces that neither the label boxes nor the model's `missing` candidates cover."""
        ...


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` with every box of `b` (x1, y1, x2, y2), shape (len(a), len(b))."""
    return sv.box_iou_batch(a.reshape(-1, 4), b.reshape(-1, 4))


def find_candidates(labels: sv.Detections, detections: sv.Detections, conf_thres: float) -> dict[str, sv.Detections]:
    """The three kinds of disagreement between one image's label boxes and its detections (which
    must reach down to UNFOUND_CONF). wrong_class boxes are the label's, with the model's class."""
    confident = detections[detections.confidence >= conf_thres]
    overlap = iou(labels.xyxy, confident.xyxy)
    missing = confident[~(overlap >= MISSING_IOU).any(axis=0)]
    if len(missing) > 1:  # one candidate per face, whichever class the model favours
        missing = missing.with_nms(threshold=WRONG_CLASS_IOU, class_agnostic=True)

    same = labels.class_id[:, None] == confident.class_id[None, :]
    close = overlap >= WRONG_CLASS_IOU
    other = np.where(close & ~same, overlap, 0.0)
    wrong = ~(close & same).any(axis=1) & (other > 0).any(axis=1)
    best = other.argmax(axis=1)[wrong] if len(confident) else np.zeros(0, int)
    wrong_class = sv.Detections(
        xyxy=labels.xyxy[wrong], class_id=confident.class_id[best], confidence=confident.confidence[best]
    )

    low = detections[detections.confidence >= UNFOUND_CONF]
    unfound = labels[~(iou(labels.xyxy, low.xyxy) >= UNFOUND_IOU).any(axis=1)]
    return {"missing": missing, "wrong_class": wrong_class, "unfound": unfound}


def to_candidates(
    image: str, found: dict[str, sv.Detections], width: int, height: int, source: str = "model"
) -> list[Candidate]:
    out = []
    for kind, d in found.items():
        for i in range(len(d)):
            x1, y1, x2, y2 = d.xyxy[i] / [width, height, width, height]
            conf = None if d.confidence is None else float(d.confidence[i])
            box = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
            out.append(Candidate(image, kind, int(d.class_id[i]), conf, *box, source=source))
    return out


class _AuditSink(BaseSink):
    """Compares each image's detections with its labels, as the pipeline hands them over. An image
    whose label breaks the label rule (read_yolo) is skipped whole, as ultralytics leaves it out of
    training: auditing its other boxes would report the face of the bad line as missing. A `second`
    opinion adds its missing faces after the model's, the image's candidates staying together."""

    def __init__(
        self, root: Path, conf_thres: float, classes: Collection[str] | None, second: SecondOpinion | None = None
    ):
        self.root, self.conf_thres, self.classes, self.second = root, conf_thres, classes, second
        self.audits: list[ImageAudit] = []

    def write(self, result: FrameResult) -> None:
        path = Path(result.frame.source)
        rel = path.relative_to(self.root).as_posix()
        height, width = result.frame.image.shape[:2]
        try:
            labels = load_labels(path, width, height, self.classes)
        except LabelError as e:
            self.audits.append(ImageAudit(rel, skipped=f"bad label ({e})"))
            return
        except OSError as e:
            self.audits.append(ImageAudit(rel, skipped=f"unreadable label ({e.strerror})"))
            return
        found = find_candidates(labels, result.detections, self.conf_thres)
        candidates = to_candidates(rel, found, width, height)
        if self.second:
            extra = self.second.missing(result.frame.image, labels, found["missing"], result.detections)
            candidates += to_candidates(rel, {"missing": extra}, width, height, self.second.name)
        self.audits.append(ImageAudit(rel, len(labels), candidates))

    def skip(self, frame: Frame) -> None:
        self.audits.append(ImageAudit(Path(frame.source).relative_to(self.root).as_posix(), skipped=frame.error))


def audit_images(
    detector: Detector,
    images: Sequence[Path],
    root: Path,
    conf_thres: float,
    classes: Collection[str] | None = None,
    desc: str = "Auditing",
    second: SecondOpinion | None = None,
) -> list[ImageAudit]:
    """Run the model over `images` through detect.py's pipeline (detector settings reaching down to
    UNFOUND_CONF) and compare with their labels (`classes`: the dataset's class ids), with the missing
    faces of a `second` opinion; an unreadable image or a bad label is an ImageAudit that says why it
    was skipped."""
    sink = _AuditSink(root, conf_thres, classes, second)
    frames = (read_image(str(p)) for p in tqdm(images, desc=desc, unit="img", file=sys.stdout))
    Pipeline(detector).run(frames, [sink])
    return sink.audits


def training_names(train_args: dict[str, Any]) -> set[str] | None:
    """File names of the training images of the dataset a checkpoint was trained on (its train_args
    `data`), or None when that dataset is not on this machine. A yaml that is gone is also looked for
    as the data.yaml inside the folder of its name (datasets/x.yaml -> datasets/x/data.yaml)."""
    data = train_args.get("data")
    if not data:
        return None
    for yaml_path in (Path(data), PROJECT_ROOT / data, Path(data).with_suffix("") / "data.yaml"):
        try:
            root, content = load_dataset(yaml_path)
            return {p.name for p in split_images(root, content, "train")}
        except DatasetError:
            continue
    return None


def checkpoint_train_args(detector: Detector) -> dict[str, Any]:
    """What an ultralytics .pt records of its training; nothing for exports."""
    ckpt = getattr(detector.model, "ckpt", None)
    return dict(ckpt.get("train_args") or {}) if isinstance(ckpt, dict) else {}


def bias_warning(weights: str | Path, seen: int, total: int, data: str) -> str:
    return (
        f"WARNING: {seen} of the {total} audited photos were in the training data of {weights} ({data}). "
        "A model that memorised a label agrees with it, so candidates on those photos are biased: label "
        "errors there go unflagged. Rerun with --folds K (e.g. 5) to audit each of them with a model "
        "fine-tuned without it."
    )


def summarise(audits: list[ImageAudit], sources: list[str]) -> dict[str, dict[str, int]]:
    """Images, label boxes and candidates of each kind per source, plus a 'total' row (skipped images
    left out)."""
    rows: dict[str, Counter] = {}
    for a in (a for a in audits if a.skipped is None):
        for key in (source_of(a.image, sources), "total"):
            row = rows.setdefault(key, Counter(dict.fromkeys(("images", "labels", *KINDS), 0)))
            row.update(images=1, labels=a.labels)
            row.update(c.kind for c in a.candidates)
    order = [*sorted(k for k in rows if k != "total"), "total"] if rows else []
    return {k: dict(rows[k]) for k in order}


def report_skipped(audits: list[ImageAudit], root: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Warn of each skipped image in one line (the first MAX_WARNINGS: a dataset of bad labels must
    not bury the table); returns their count by reason, and every one with why, for summary.json."""
    skipped = {a.image: a.skipped for a in audits if a.skipped}
    for image, why in list(skipped.items())[:MAX_WARNINGS]:
        warn(f"skipped {root / image}: {why}")
    if len(skipped) > MAX_WARNINGS:
        warn(f"{len(skipped) - MAX_WARNINGS} more skipped; summary.json lists them")
    return dict(Counter(a.reason for a in audits if a.skipped)), skipped


def print_summary(summary: dict[str, dict[str, int]], title: str, console: Console | None = None) -> None:
    table = Table(title=title)
    columns = ("images", "labels", *KINDS)
    for col in ("source", *columns):
        table.add_column(col, justify="left" if col == "source" else "right")
    for source, row in summary.items():
        table.add_row(source, *(str(row[c]) for c in columns))
    (console or Console()).print(table)


def write_csv(candidates: Iterable[Candidate], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([f.name for f in fields(Candidate)])
        for c in candidates:
            image, kind, cls, conf, *box, source = astuple(c)
            w.writerow([image, kind, cls, "" if conf is None else f"{conf:.4f}", *(f"{v:.6f}" for v in box), source])


def detector_settings(imgsz: int, conf_thres: float, iou_thres: float, device: str | None) -> DetectorSettings:
    """Inference reaching down to UNFOUND_CONF, so that one pass serves all three kinds."""
    return DetectorSettings(imgsz=imgsz, conf=min(conf_thres, UNFOUND_CONF), iou=iou_thres, device=device)


def class_ids(content: dict[str, Any]) -> list[str]:
    """The class ids a data yaml's `names` gives, as label files write them: '0', '1', ..."""
    names = content["names"]
    return [str(k) for k in (names if isinstance(names, dict) else range(len(names)))]


def audited_splits(content: dict[str, Any], splits: str | Iterable[str] | None) -> list[str]:
    """The splits asked for (one name, or several), or every one of train, val and test the yaml has."""
    splits = [splits] if isinstance(splits, str) else splits
    chosen = list(splits) if splits else [s for s in SPLITS if content.get(s)]
    absent = [s for s in chosen if not content.get(s)]
    if absent or not chosen:
        raise AuditError(f"the data yaml has no {', '.join(absent) or 'train, val or test'} split")
    return chosen
