"""Per-image latency and accuracy of every CPU format, side by side: a benchmark, not a test.

For each image size, exports the model with export.py (TorchScript, ONNX, OpenVINO FP32, OpenVINO int8
calibrated on the training split), then, on the same test images, times pre-process, inference and
post-process through detect.py's own Pipeline and Detector (median over all runs after warm-up) and
measures mAP@0.5 on the test split with val.py.

Usage:
    python -m benchmarks.inference_formats                                  # shipped model, 320 and 640
    python -m benchmarks.inference_formats --weights runs/train/exp/weights/best.pt --imgsz 640 --runs 3
    python -m benchmarks.inference_formats --formats PyTorch "ONNX Runtime" --images 10
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

import export
import val
from benchmarks import defaults
from facemask.cli import float_range, image_size, int_range, positive_int, run_or_fail
from facemask.data.dataset_files import load_dataset, split_images
from facemask.inference.detector import Detector, DetectorSettings
from facemask.inference.media import Frame, read_image
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS

EXPORTS = {  # name -> export.run arguments (None: the .pt itself)
    "PyTorch": None,
    "TorchScript": {"include": ["torchscript"]},
    "ONNX Runtime": {"include": ["onnx"]},
    "OpenVINO FP32": {"include": ["openvino"]},
    "OpenVINO int8": {"include": ["openvino"], "int8": True},
}
STAGES = ("preprocess", "inference", "postprocess")


def export_formats(weights: Path, work: Path, imgsz: int, data: Path, fraction: float, formats) -> dict[str, Path]:
    """Each of `formats` exported at `imgsz`, each beside a copy of `weights` of its own."""
    out = {}
    for name in formats:
        target = work / f"{name.replace(' ', '_')}_{imgsz}"
        target.mkdir()
        pt = target / weights.name
        shutil.copy(weights, pt)
        args = EXPORTS[name]
        if args is None:
            out[name] = pt
            continue
        out[name] = export.run(weights=pt, imgsz=imgsz, data=data, fraction=fraction, **args)[args["include"][0]]
    return out


class Timings(BaseSink):
    """The detector's own timing of every frame, by stage."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)

    def write(self, result: FrameResult) -> None:
        for stage, ms in result.speed_ms.items():
            self.ms[stage].append(ms)


def latency(model: Path, frames: list[Frame], imgsz: int, runs: int, warmup: int) -> dict[str, float]:
    """Median ms per stage over `runs` passes over `frames` (after `warmup` of them), and their total."""
    pipeline = Pipeline(Detector(model, DetectorSettings(imgsz=imgsz, device="cpu")))  # detect.py's, no drawing
    pipeline.run(frames[:warmup])
    timings = Timings()
    pipeline.run(frames * runs, [timings])
    medians = {stage: statistics.median(timings.ms[stage]) for stage in STAGES}
    medians["total"] = sum(medians.values())
    return medians


def run(
    weights: Path = DEFAULT_WEIGHTS,
    data: Path = DEFAULT_DATA,
    imgsz: Sequence[int] = (320, 640),
    images: int = 50,
    runs: int = 3,
    warmup: int = 10,
    fraction: float = 0.1,
    formats: Sequence[str] = tuple(EXPORTS),
) -> list[dict[str, Any]]:
    """Export, time and evaluate `weights` in each of `formats` at each `imgsz`, and print the table.

    data: dataset yaml (its test split is timed and evaluated; its train split calibrates int8)
    images: test images timed; runs: passes over them after `warmup` images; fraction: share of the
    training images for int8 calibration. Returns a row per format and size: format, imgsz, ms (per
    stage and total), mAP50, mAP50-95."""
    root, content = load_dataset(data)
    frames = [read_image(str(f)) for f in split_images(root, content, "test")[:images]]
    print(f"{weights} on {len(frames)} test images x {runs} runs; CPU, {torch.get_num_threads()} threads")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in imgsz:
            for name, model in export_formats(weights, Path(tmp), size, data, fraction, formats).items():
                t = latency(model, frames, size, runs, warmup)
                m = evaluate(model, data, size, Path(tmp) / "val", name)
                rows.append({"format": name, "imgsz": size, "ms": t, "mAP50": m["mAP50"], "mAP50-95": m["mAP50-95"]})
                print(f"  {name} {size}: {t['total']:.1f} ms, mAP50 {m['mAP50']:.3f}", flush=True)
    print_table(rows)
    settings = {"images": len(frames), "runs": runs, "warmup": warmup, "int8_calibration": fraction}
    print("\nsettings:", yaml.safe_dump(settings, default_flow_style=True).strip())
    return rows


def evaluate(model: Path, data: Path, imgsz: int, project: Path, name: str) -> dict[str, float]:
    """val.py's figures over the test split (its tables left out: this benchmark prints its own)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return val.run(
            weights=model, data=data, task="test", imgsz=imgsz, batch=1, project=project, name=name, plots=False
        )["all"]


def print_table(rows: list[dict[str, Any]]) -> None:
    """A markdown table; speed-up is against PyTorch at the same size (when it was timed)."""
    print("\n| format | imgsz | pre ms | inference ms | post ms | total ms | speed-up | mAP@0.5 | mAP@0.5:0.95 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        t = r["ms"]
        base = next((b["ms"]["total"] for b in rows if b["format"] == "PyTorch" and b["imgsz"] == r["imgsz"]), None)
        speed_up = "-" if base is None else f"{base / t['total']:.2f}x"
        print(
            f"| {r['format']} | {r['imgsz']} | {t['preprocess']:.1f} | {t['inference']:.1f} | {t['postprocess']:.1f} "
            f"| {t['total']:.1f} | {speed_up} | {r['mAP50']:.3f} | {r['mAP50-95']:.3f} |"
        )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path)
    p.add_argument("--data", type=Path, help="dataset yaml")
    p.add_argument("--imgsz", nargs="+", type=image_size)
    p.add_argument("--images", type=positive_int(), help="test images timed")
    p.add_argument("--runs", type=positive_int(), help="passes over the timed images")
    p.add_argument("--warmup", type=int_range(0))
    p.add_argument("--fraction", type=float_range(0, 1, lo_open=True), help="share of training images for int8")
    p.add_argument("--formats", nargs="+", choices=list(EXPORTS), help="default: all")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.inference_formats", run, opt)


if __name__ == "__main__":
    main(parse_opt())
