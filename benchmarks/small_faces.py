"""What tiles and test-time augmentation gain on small faces, and what they cost: a benchmark, not a test.

For each mode (plain at the model's own size, plain at 640 px, --tile, --augment), runs detect.py's
Pipeline and Detector over a split at detect.py's confidence and prints recall by face size (val.py's
breakdown: sizes with the photo at 640 px on its long side), the detections that match no labelled face
per image (false alarms, or faces the labels miss), and the median milliseconds per image on this machine.

Usage:
    python -m benchmarks.small_faces --weights weights/face_masks.pt --data data/face_masks_upright.yaml
    python -m benchmarks.small_faces --split val --modes plain tile
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import UPRIGHT_DATA, defaults
from facemask.cli import run_or_fail, unit_float
from facemask.data.dataset_files import class_names, known_sources, load_dataset, split_images
from facemask.inference.detector import Detector, DetectorSettings, PredictOptions
from facemask.inference.media import Frame
from facemask.inference.pipeline import Pipeline
from facemask.model import photo_scores, recall_breakdown
from facemask.paths import DEFAULT_WEIGHTS

MODES = {  # name -> DetectorSettings changes
    "plain": {},
    "plain 640": {"imgsz": 640},
    "tile": {"tile": True},
    "augment": {"augment": True},
}


def measure(weights: Path, data: Path, split: str, mode: str, conf: float) -> dict[str, Any]:
    """Recall by face size, class and source in one mode, its median ms per image and the detections that
    match no labelled face (of their class) per image."""
    detector = Detector(weights, DetectorSettings(conf=conf, **MODES[mode]))
    pipeline = Pipeline(detector)  # what detect.py runs, without drawing
    root, content = load_dataset(data)
    images = split_images(root, content, split)
    timings: list[float] = []

    def detect(image: np.ndarray):
        start = time.perf_counter()
        found = pipeline.process(Frame("benchmark", "benchmark", image)).detections
        timings.append((time.perf_counter() - start) * 1000)
        return found

    photos = photo_scores.collect_photos(images, detect, known_sources(root), progress=False)
    result = recall_breakdown.summarise(recall_breakdown.faces_of(photos, class_names(content), conf))
    unmatched = sum(int((~recall_breakdown.found_faces(p.detections, p.labels)).sum()) for p in photos)
    result.update(
        mode=mode,
        imgsz=detector.input_size.imgsz,
        ms=float(np.median(timings[1:] or timings)),
        extra_per_image=unmatched / max(len(images), 1),
    )
    return result


def run(
    weights: Path = DEFAULT_WEIGHTS,
    data: Path = UPRIGHT_DATA,
    split: str = "test",
    conf: float = PredictOptions.conf,
    modes: Sequence[str] = tuple(MODES),
) -> list[dict[str, Any]]:
    """Measure each of `modes` on the `split` of `data` at confidence `conf` and print the table; returns
    recall_breakdown's summary per mode, with mode, imgsz, ms (median per image) and extra_per_image."""
    results = [measure(weights, data, split, m, conf) for m in modes]
    sizes = recall_breakdown.SIZE_NAMES
    print(f"\n{weights} on the {split} split of {data}, confidence {conf}: recall by face size")
    print("| mode | px | " + " | ".join(sizes) + " | all | No Mask | unmatched detections / image | ms / image |")
    print("| --- " * (len(sizes) + 6) + "|")
    for r in results:
        cells = [f"{r['by_size'][s]['recall']:.3f}" if s in r["by_size"] else "-" for s in sizes]
        no_mask = r["by_class"].get("No Mask", {}).get("recall", float("nan"))
        tail = f"{r['all']['recall']:.3f} | {no_mask:.3f} | {r['extra_per_image']:.2f} | {r['ms']:.0f}"
        print(f"| {r['mode']} | {r['imgsz']} | " + " | ".join(cells) + f" | {tail} |")
    counts = results[0]["by_size"]
    print("faces per size: " + ", ".join(f"{s}: {counts[s]['faces']}" for s in sizes if s in counts))
    return results


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path)
    p.add_argument("--data", type=Path, help="dataset yaml")
    p.add_argument("--split")
    p.add_argument("--conf", type=unit_float, help="confidence threshold (default: detect.py's)")
    p.add_argument("--modes", nargs="+", choices=list(MODES))
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.small_faces", run, opt)


if __name__ == "__main__":
    main(parse_opt())
