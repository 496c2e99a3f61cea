"""Evaluation of a model on a dataset split: per-class P, R, mAP@0.5 and mAP@0.5:0.95 as a table and
JSON, with ultralytics' PR, F1 and confusion-matrix plots beside them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import supervision as sv
from rich.console import Console
from rich.table import Table

from facemask.confidence import DEFAULT_CONF
from facemask.data.data_yaml import check_data, dataset_root
from facemask.data.dataset_files import class_names, known_sources, split_images
from facemask.data.sources import IMAGE_SUFFIXES
from facemask.model import photo_scores, recall_breakdown
from facemask.model.checkpoints import check_device, load_model, precision_args
from facemask.model.input_size import LARGE_PHOTO, resolve
from facemask.owned_dirs import run_dir
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS, VAL_DIR

METRIC_KEYS = ("precision", "recall", "mAP50", "mAP50-95")


class DetectorFactory(Protocol):
    """Makes the pass over the photos behind `by_photos` and recall by face. val.py gives detect.py's
    Detector, which this module cannot import (facemask.inference sits above facemask.model)."""

    def __call__(
        self,
        weights: str | Path,
        *,
        imgsz: int | None,
        large_imgsz: int | None,
        conf: float,
        iou: float,
        device: str | None,
        augment: bool,
        tile: bool,
    ) -> Callable[[np.ndarray], sv.Detections]:
        """A BGR image -> its detections, at these settings."""
        ...


def evaluate(
    make_detector: DetectorFactory,
    weights: str | Path = DEFAULT_WEIGHTS,
    data: str | Path = DEFAULT_DATA,
    task: str = "val",
    imgsz: int | None = None,
    large_img: int | None = LARGE_PHOTO,
    batch: int = 32,
    conf_thres: float = 0.001,
    iou_thres: float = 0.6,
    device: str | None = None,
    half: bool = False,
    save_json: bool = False,
    project: str | Path = VAL_DIR,
    name: str = "exp",
    exist_ok: bool = False,
    recall_conf: float = DEFAULT_CONF,
    plots: bool = True,
    ignore: Mapping[str, np.ndarray] | None = None,
    augment: bool = False,
    tile: bool = False,
) -> dict[str, Any]:
    """Validate `weights` on the `task` split; writes metrics.json in the run folder and returns it, with recall
    by face size, class and source at `recall_conf` (detect.py's confidence; also recall.json, .png) and
    `by_photos`: each group of photos' mAP and recall from `make_detector`'s detections at detect.py's sizes
    (ultralytics' table runs one size), less those on `ignore`'s regions (image stem -> faces a person found
    unlabelled). `augment` (TTA) runs in both passes, as detect.py's --augment; `tile` (detect.py's --tile,
    sahi) only in `make_detector`'s, since ultralytics' table has no tiles. `plots=False` (as YOLOv5's
    val.run) skips the pictures, for a benchmark over many models."""
    data_path, content = check_data(data, split=task)
    check_device(device)
    model = load_model(weights)
    size = resolve(imgsz, model, weights, large_img or None)
    print(f"Evaluating {weights} at {size.describe(weights)}; ultralytics' own table at {size.imgsz} px")
    requested, imgsz = imgsz, size.imgsz
    save_dir = run_dir(project, name, exist_ok, kind="val", protected=[dataset_root(data_path, content), weights])
    shared = {"conf": conf_thres, "iou": iou_thres, "device": device, "augment": augment}
    table = {"batch": batch, "save_json": save_json, "plots": plots, **shared, **precision_args(half)}
    metrics = _ultralytics_val(model, data_path, task, imgsz, save_dir, table)
    result = metrics_dict(metrics, images=_count_images(dataset_root(data_path, content) / str(content[task])))
    save_dir = Path(metrics.save_dir)
    result.update(weights=str(weights), data=str(data), task=task, imgsz=imgsz, conf=conf_thres, iou=iou_thres)
    result |= {"large_img": size.large, "augment": augment, "tile": tile, "save_dir": str(save_dir)}
    detect = make_detector(weights, imgsz=requested, large_imgsz=large_img or None, tile=tile, **shared)
    photos = photo_pass(detect, data_path, content, task, ignore)
    result |= _photo_rows(photos, class_names(content), recall_conf, ignore)
    recall_breakdown.save(result["recall_by_face"], save_dir, plot=plots)
    (save_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _ultralytics_val(
    model: Any, data_path: Path, task: str, imgsz: int, save_dir: Path, settings: dict[str, Any]
) -> Any:
    """ultralytics' own validation at one size into `save_dir`: the per-class table, curves and matrices."""
    where = {"project": str(save_dir.parent), "name": save_dir.name, "exist_ok": True}
    return model.val(data=str(data_path), split=task, imgsz=imgsz, **where, **settings)


def _count_images(split_dir: Path) -> int:
    """How many images the split folder holds (metrics.json's `images`)."""
    return sum(p.suffix.lower() in IMAGE_SUFFIXES for p in split_dir.rglob("*"))


def _photo_rows(
    photos: list[photo_scores.Photo], names: list[str], recall_conf: float, ignore: Mapping[str, np.ndarray] | None
) -> dict[str, Any]:
    """metrics.json's `by_photos` (a row per group of photos), `recall_by_face` at `recall_conf` and
    `ignore_regions`: how many of `ignore`'s regions are on these photos."""
    by_face = recall_breakdown.summarise(recall_breakdown.faces_of(photos, names, recall_conf))
    return {
        "by_photos": photo_scores.score_groups(photos, names, recall_conf),
        "recall_by_face": {**by_face, "conf": recall_conf},
        "ignore_regions": sum(len((ignore or {}).get(p.name, ())) for p in photos),
    }


def photo_pass(
    detect: Callable[[np.ndarray], sv.Detections],
    data_path: Path,
    content: dict[str, Any],
    task: str,
    ignore: Mapping[str, np.ndarray] | None = None,
) -> list[photo_scores.Photo]:
    """`detect` once over the split at the evaluation's confidence: the photos' detections, for the mAP
    and recall of each group of photos (photo_scores) and recall by face (recall_breakdown)."""
    root = dataset_root(data_path, content)
    images = split_images(root, content, task)
    return photo_scores.collect_photos(images, detect, known_sources(root), ignore=ignore)


def metrics_dict(metrics, images: int) -> dict[str, Any]:
    """ultralytics DetMetrics -> plain numbers: overall and per class (images, instances, P, R, mAPs)."""
    box = metrics.box
    classes = {}
    for i, c in enumerate(metrics.ap_class_index):
        p, r, ap50, ap = box.class_result(i)
        classes[metrics.names[int(c)]] = {
            "images": int(metrics.nt_per_image[c]),
            "instances": int(metrics.nt_per_class[c]),
            **dict(zip(METRIC_KEYS, map(float, (p, r, ap50, ap)), strict=True)),
        }
    return {
        "all": {
            "images": images,
            "instances": int(metrics.nt_per_class.sum()),
            **dict(zip(METRIC_KEYS, map(float, box.mean_results()), strict=True)),
        },
        "classes": classes,
        "speed_ms_per_image": {k: round(float(v), 2) for k, v in metrics.speed.items()},
    }


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    title = f"{result['weights']} on {result['data']} ({result['task']}, {result['imgsz']} px)"
    # Its mAP differs from the rows by photos: every photo at one size, and ultralytics' NMS per class.
    table = Table(title=f"{title}: ultralytics' validator, every photo at one size, NMS per class")
    for col in ("class", "images", "instances", "P", "R", "mAP@0.5", "mAP@0.5:0.95"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for name, m in [("all", result["all"]), *result["classes"].items()]:
        table.add_row(name, str(m["images"]), str(m["instances"]), *(f"{m[k]:.3f}" for k in METRIC_KEYS))
    (console or Console()).print(table)
