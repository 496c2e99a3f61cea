"""Evaluate a face-mask model: per-class precision, recall, mAP@0.5 and mAP@0.5:0.95, with curves, and
which faces it misses. It leads with a row per group of photos (all, the crowd photos with 5 or more faces,
each source): mAP, recall, No Mask recall and recall of faces under 16 and 16-32 px (sizes with the photo
scaled to 640 px on its long side), then ultralytics' per-class table and recall by size, class and source.

Usage:
    python val.py --weights weights/face_masks.pt --task test           # the model card's figures
    python val.py --weights runs/train/exp/weights/best.pt --data data/face_masks.yaml --img 640
    python val.py --weights weights/face_masks.pt --task test --save-json   # + COCO-format predictions
    python val.py --weights W --data data/face_masks_crowd.yaml --task test --ignore data/audits/crowd_valtest
        # + unlabelled faces a person accepted in that audit's review scored as ignore regions
    python val.py --weights W --data data/face_masks_crowd.yaml --augment   # as detect.py --augment (TTA)
    python val.py --weights W --data data/face_masks_crowd.yaml --tile      # as detect.py --tile (rows only)

Writes to runs/val/exp*: metrics.json, recall.json and recall.png, PR/F1/P/R curves, confusion
matrices (and predictions.json). The image size is the model's own (trained or exported at) unless
--img is given; the run says which.

Python:
    from val import run
    metrics = run(weights="weights/face_masks.pt", task="test")
    metrics["by_photos"]["crowd (5+)"]["mAP50"], metrics["recall_by_face"]["by_size"]["16-32"]["recall"]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from facemask.audit.review import ignore_regions
from facemask.cli import image_size, int_range, positive_int, run_or_fail, script_parser, unit_float
from facemask.confidence import DEFAULT_CONF
from facemask.inference.detector import Detector, DetectorSettings
from facemask.model import photo_scores, recall_breakdown
from facemask.model.evaluation import evaluate, print_table
from facemask.model.input_size import LARGE_PHOTO
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS, VAL_DIR


def photo_detector(weights: str | Path, **settings: Any) -> Callable[[np.ndarray], sv.Detections]:
    """detect.py's Detector for the evaluation's pass over the photos, so the rows by group of photos and
    recall by face are what detect.py would find (facemask.model cannot import facemask.inference)."""
    detector = Detector(weights, DetectorSettings(**settings))
    return lambda image: detector(image).detections


def run(**kwargs: Any) -> dict[str, Any]:
    """Evaluate and print the per-class table; returns what metrics.json holds. Keyword arguments are
    the long flag names (weights, data, task, imgsz, large_img, batch, conf_thres, iou_thres, device, half,
    save_json, project, name, exist_ok, recall_conf, plots, ignore, augment, tile), with
    facemask.model.evaluation.evaluate's defaults; `ignore` is a reviewed audit run whose accepted missing
    faces are ignore regions; `augment` and `tile` are detect.py's switches."""
    if kwargs.get("ignore") is not None:
        kwargs["ignore"] = ignore_regions(kwargs["ignore"])
    result = evaluate(photo_detector, **kwargs)
    conf = result["recall_by_face"]["conf"]
    large = f", photos over {result['large_img']} px at {result['large_img']}" if result["large_img"] else ""
    large += f", {result['ignore_regions']} unlabelled faces ignored" if result["ignore_regions"] else ""
    large += ", test-time augmentation" * result["augment"] + ", tiled" * result["tile"]
    title = f"{result['task']} split by photos at {result['imgsz']} px{large} (recall at confidence {conf}; face sizes"
    photo_scores.print_table(result["by_photos"], f"{title} with the photo at 640 px on its long side)")
    print_table(result)
    recall_breakdown.print_table(result["recall_by_face"])
    print(f"Metrics, recall by face (recall.json, recall.png), curves and confusion matrices: {result['save_dir']}")
    return result


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="model (.pt or an export)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset yaml")
    p.add_argument("--task", choices=("val", "test"), default="val", help="split to evaluate")
    p.add_argument(
        "--img",
        "--imgsz",
        "--img-size",
        dest="imgsz",
        type=image_size,
        default=None,
        help="pixels (default: the size the model was trained or exported at)",
    )
    p.add_argument(
        "--large-img",
        type=int_range(0, 8192),
        default=LARGE_PHOTO,
        help="photos longer than this run at this size, as detect.py's (0: every photo at one size)",
    )
    p.add_argument("--batch-size", "--batch", dest="batch", type=positive_int(), default=32)
    p.add_argument("--conf-thres", type=unit_float, default=0.001, help="confidence threshold (0-1)")
    p.add_argument("--iou-thres", type=unit_float, default=0.6, help="NMS IoU threshold (0-1)")
    p.add_argument(
        "--recall-conf", type=unit_float, default=DEFAULT_CONF, help="confidence of the recall-by-face breakdown"
    )
    p.add_argument(
        "--ignore", type=Path, help="reviewed audit run: its accepted missing faces are ignore regions in the rows"
    )
    p.add_argument("--augment", action="store_true", help="test-time augmentation (flips, scales), as detect.py's")
    p.add_argument("--tile", action="store_true", help="the rows by photos from detect.py's --tile (sahi)")
    p.add_argument("--device", help="cpu, 0, ...")
    p.add_argument("--half", action="store_true", help="FP16 inference (GPU)")
    p.add_argument("--save-json", action="store_true", help="also write COCO-format predictions.json")
    p.add_argument("--project", type=Path, default=VAL_DIR, help="save to project/name")
    p.add_argument("--name", default="exp")
    p.add_argument("--exist-ok", action="store_true")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("val.py", run, opt)


if __name__ == "__main__":
    main(parse_opt())
