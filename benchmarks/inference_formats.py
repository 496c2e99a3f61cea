"""Per-image latency and accuracy of every CPU format, side by side: a benchmark, not a test.

For each image size, exports the model (TorchScript, ONNX, OpenVINO FP32, OpenVINO int8 calibrated on
the training split), then, on the same test images, times pre-process, inference and post-process
through detect.py's own Detector (median over all runs after warm-up) and measures mAP@0.5 on the
test split with val.py's evaluation.

Usage:
    python benchmarks/inference_formats.py                                  # shipped model, 320 and 640
    python benchmarks/inference_formats.py --weights runs/train/exp/weights/best.pt --imgsz 640 --runs 3
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import torch
import yaml

from facemask.data.data_yaml import check_data, dataset_root
from facemask.data.sources import IMAGE_SUFFIXES
from facemask.inference.detector import Detector, DetectorSettings
from facemask.inference.media import Frame, read_image
from facemask.inference.pipeline import Pipeline
from facemask.model.evaluation import evaluate
from facemask.paths import PROJECT_ROOT

EXPORTS = {  # name -> ultralytics export arguments (None: the .pt itself)
    "PyTorch": None,
    "TorchScript": {"format": "torchscript"},
    "ONNX Runtime": {"format": "onnx"},
    "OpenVINO FP32": {"format": "openvino"},
    "OpenVINO int8": {"format": "openvino", "quantize": 8},
}


def export(weights: Path, work: Path, imgsz: int, data: Path, fraction: float) -> dict[str, Path]:
    from ultralytics import YOLO

    out = {}
    for name, args in EXPORTS.items():
        target = work / f"{name.replace(' ', '_')}_{imgsz}"
        target.mkdir()
        pt = target / weights.name
        shutil.copy(weights, pt)  # each export lands beside its own copy
        if args is None:
            out[name] = pt
            continue
        extra = {"data": str(data), "fraction": fraction} if args.get("quantize") == 8 else {}
        out[name] = Path(YOLO(str(pt)).export(imgsz=imgsz, verbose=False, **args, **extra))
    return out


def latency(model: Path, images: list, imgsz: int, runs: int, warmup: int) -> dict[str, float]:
    pipeline = Pipeline(Detector(model, DetectorSettings(imgsz=imgsz, device="cpu")))  # detect.py's, no drawing
    frames = [Frame(f"image{i}", f"image{i}", image) for i, image in enumerate(images)]
    for frame in frames[:warmup]:
        pipeline.process(frame)
    times: dict[str, list[float]] = {"preprocess": [], "inference": [], "postprocess": []}
    for _ in range(runs):
        for frame in frames:
            for k, v in pipeline.process(frame).speed_ms.items():
                times[k].append(v)
    medians = {k: statistics.median(v) for k, v in times.items()}
    medians["total"] = sum(medians.values())
    return medians


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=PROJECT_ROOT / "weights" / "face_masks.pt")
    p.add_argument("--data", type=Path, default=PROJECT_ROOT / "data" / "face_masks.yaml")
    p.add_argument("--imgsz", nargs="+", type=int, default=[320, 640])
    p.add_argument("--images", type=int, default=50, help="test images timed")
    p.add_argument("--runs", type=int, default=3, help="passes over the timed images")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--fraction", type=float, default=0.1, help="share of training images for int8 calibration")
    opt = p.parse_args()

    data, content = check_data(opt.data, split="test")
    test_dir = dataset_root(data, content) / str(content["test"])
    files = sorted(f for f in test_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)[: opt.images]
    images = [read_image(str(f)).image for f in files]
    print(f"{opt.weights} on {len(images)} test images x {opt.runs} runs; CPU, {torch.get_num_threads()} threads")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for imgsz in opt.imgsz:
            for name, model in export(opt.weights, Path(tmp), imgsz, data, opt.fraction).items():
                t = latency(model, images, imgsz, opt.runs, opt.warmup)
                m = evaluate(
                    model, data, task="test", imgsz=imgsz, batch=1, project=Path(tmp) / "val", name=name, plots=False
                )
                rows.append((name, imgsz, t, m["all"]["mAP50"], m["all"]["mAP50-95"]))
                print(f"  {name} {imgsz}: {t['total']:.1f} ms, mAP50 {m['all']['mAP50']:.3f}", flush=True)

    print("\n| format | imgsz | pre ms | inference ms | post ms | total ms | speed-up | mAP@0.5 | mAP@0.5:0.95 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, imgsz, t, map50, map_ in rows:
        base = next(r[2]["total"] for r in rows if r[0] == "PyTorch" and r[1] == imgsz)
        print(f"| {name} | {imgsz} | {t['preprocess']:.1f} | {t['inference']:.1f} | {t['postprocess']:.1f} | "
              f"{t['total']:.1f} | {base / t['total']:.2f}x | {map50:.3f} | {map_:.3f} |")  # fmt: skip
    settings = {"images": len(images), "runs": opt.runs, "warmup": opt.warmup, "int8_calibration": opt.fraction}
    print("\nsettings:", yaml.safe_dump(settings, default_flow_style=True).strip())


if __name__ == "__main__":
    main()
