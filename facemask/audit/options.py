"""What an audit is asked to do: audit_labels.py's flags, each default written once here (its run() takes
these fields as keywords and its argparse reads their defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facemask.inference.detector import PredictOptions
from facemask.model.training import DEFAULT_CONFIG
from facemask.paths import AUDIT_DIR, DEFAULT_DATA, DEFAULT_WEIGHTS


@dataclass(frozen=True)
class AuditOptions:
    """One audit run, or with `review` the review of one."""

    weights: str | Path = DEFAULT_WEIGHTS  # the model that judges the labels (.pt or an export)
    data: str | Path = DEFAULT_DATA  # the dataset yaml
    split: list[str] | None = None  # the splits to audit (None: every one the yaml has)
    imgsz: int | None = None  # inference size (None: the size the model was trained at)
    conf_thres: float = 0.5  # the confidence of a "confident" detection (missing and wrong_class)
    iou_thres: float = PredictOptions.iou  # NMS IoU threshold
    device: str | None = None  # cpu, 0, ...
    project: str | Path = AUDIT_DIR  # the run goes to project/name
    name: str = "exp"
    exist_ok: bool = False  # reuse project/name (and replace `out` if this project made it)
    apply: str | None = None  # "missing=add|ignore|none": write a corrected copy of the dataset at `out`
    out: str | Path | None = None  # the corrected copy's folder (a new one, or one this project made)
    folds: int = 0  # audit the photos the model trained on with this many fold models (0: none)
    fold_epochs: int = 3  # epochs of each fold model
    fold_weights: str | Path | None = None  # what fold models start from (None: what the model started from)
    fold_batch: int = 16  # batch size of fold training
    fold_config: str | Path = DEFAULT_CONFIG  # training config of fold models
    review: str | Path | None = None  # an audit run's folder: review its gallery, or with `apply` apply it
    port: int = 0  # the port of `review` on 127.0.0.1 (0: a free one)
    second_opinion: str | None = None  # a face finder ("mtcnn") whose faces the labels and model miss are missing
