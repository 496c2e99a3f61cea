"""What tiles and test-time augmentation gain on small faces, and what they cost: a benchmark, not a test.

For each mode (plain at the model's own size, plain at 640 px, --tile, --augment), runs detect.py's
Detector over a split at confidence 0.25 and prints recall by face size (val.py's breakdown), the
detections that match no labelled face per image (false alarms, or faces the labels miss), and the
mean milliseconds per image on this machine.

Usage:
    python benchmarks/small_faces.py --weights weights/face_masks.pt --data data/face_masks_upright.yaml
    python benchmarks/small_faces.py --split val --modes plain tile
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import time

import numpy as np

from facemask.data.dataset_files import class_names, known_sources, load_dataset, load_labels, split_images
from facemask.inference.detector import Detector, DetectorSettings
from facemask.inference.media import Frame, read_image
from facemask.inference.pipeline import Pipeline
from facemask.model import recall_breakdown

MODES = {  # name -> DetectorSettings changes
    "plain": {},
    "plain 640": {"imgsz": 640},
    "tile": {"tile": True},
    "augment": {"augment": True},
}


def measure(weights: Path, data: Path, split: str, mode: str, conf: float) -> dict:
    detector = Detector(weights, DetectorSettings(conf=conf, **MODES[mode]))
    pipeline = Pipeline(detector)  # what detect.py runs, without drawing
    root, content = load_dataset(data)
    names = class_names(content)
    images = split_images(root, content, split)
    timings: list[float] = []
    extra = 0

    def detect(image: np.ndarray):
        start = time.perf_counter()
        found = pipeline.process(Frame("benchmark", "benchmark", image)).detections
        timings.append((time.perf_counter() - start) * 1000)
        return found

    faces = recall_breakdown.collect(images, detect, names, known_sources(root), progress=False)
    for image in images:  # detections with no labelled face under them (a second pass, not timed)
        frame = read_image(str(image))
        if frame.image is None:
            continue
        labels = load_labels(image, frame.image.shape[1], frame.image.shape[0])
        found = pipeline.process(frame).detections
        extra += int((~recall_breakdown.found_faces(found, labels)).sum()) if len(found) else 0
    result = recall_breakdown.summarise(faces)
    result.update(mode=mode, imgsz=detector.input_size.imgsz, ms=float(np.median(timings[1:] or timings)),
                  extra_per_image=extra / max(len(images), 1))  # fmt: skip
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=ROOT / "weights" / "face_masks.pt")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "face_masks_upright.yaml")
    p.add_argument("--split", default="test")
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    opt = p.parse_args()
    results = [measure(opt.weights, opt.data, opt.split, m, opt.conf) for m in opt.modes]
    sizes = recall_breakdown.SIZE_NAMES
    print(f"\n{opt.weights} on the {opt.split} split of {opt.data}, confidence {opt.conf}: recall by face size")
    print("| mode | px | " + " | ".join(sizes) + " | all | No Mask | unmatched detections / image | ms / image |")
    print("| --- " * (len(sizes) + 6) + "|")
    for r in results:
        cells = [f"{r['by_size'][s]['recall']:.3f}" if s in r["by_size"] else "-" for s in sizes]
        no_mask = r["by_class"].get("No Mask", {}).get("recall", float("nan"))
        tail = f"{r['all']['recall']:.3f} | {no_mask:.3f} | {r['extra_per_image']:.2f} | {r['ms']:.0f}"
        print(f"| {r['mode']} | {r['imgsz']} | " + " | ".join(cells) + f" | {tail} |")
    counts = results[0]["by_size"]
    print("faces per size: " + ", ".join(f"{s}: {counts[s]['faces']}" for s in sizes if s in counts))


if __name__ == "__main__":
    main()
