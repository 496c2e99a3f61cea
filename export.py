"""Export a face-mask model to deployment formats with ultralytics' exporter.

Every export loads in detect.py and val.py (`--weights face_masks.onnx`, `--weights face_masks_openvino_model`).
`web` builds the in-browser page instead (web/: the ONNX model with ONNX Runtime Web; see facemask/app/web_page.py).

Usage:
    python export.py --weights weights/face_masks.pt --include onnx openvino torchscript
    python export.py --weights weights/face_masks.pt --include openvino --int8     # int8, calibrated on data
    python export.py --weights weights/face_masks.pt --include onnx --imgsz 320 --dynamic
    python export.py --format web                                  # the in-browser page, built in web/
    python export.py --include onnx --exist-ok                     # replace weights/face_masks.onnx
    python export.py --include onnx --push-hub you/face-masks      # weights, ONNX and MODEL_CARD.md to the Hub

Python:
    from export import run
    paths = run(weights="weights/face_masks.pt", include=["onnx", "openvino"])
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ultralytics.engine.exporter import export_formats

from facemask.app import web_page
from facemask.cli import add_flags, float_range, positive_int, run_or_fail, script_parser
from facemask.data.data_yaml import check_data
from facemask.inference.detect_options import DetectOptions
from facemask.model.checkpoints import PT_HINT, DeviceError, check_device, load_model, precision_args
from facemask.model.hub import check_push, files_to_push, push
from facemask.model.input_size import resolve
from facemask.owned_dirs import OutputDirError
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS

FORMATS = ("torchscript", "onnx", "openvino", "engine", "coreml", "saved_model", "tflite", "ncnn", "web")


def run(
    weights: str | Path = DEFAULT_WEIGHTS,
    include: list[str] | tuple[str, ...] = ("onnx",),
    imgsz: int | None = None,
    half: bool = False,
    int8: bool = False,
    data: str | Path = DEFAULT_DATA,
    fraction: float = 1.0,
    dynamic: bool = False,
    simplify: bool = True,
    batch: int = 1,
    device: str | None = None,
    web_dir: str | Path = web_page.PAGE_DIR,
    push_hub: str | None = None,
    exist_ok: bool = False,
) -> dict[str, Path]:
    """Export to each format of `include`; returns format -> path of the exported model ("web": the page's
    folder, `web_dir`, built from this run's ONNX export if there is one). Each export lands beside the
    weights; one that is there already (the shipped int8 model, say) is replaced only with `exist_ok`.
    `push_hub`: a Hugging Face repository (OWNER/NAME) to upload the weights, these exports and
    MODEL_CARD.md to."""
    _check_formats(include)
    _check_targets(Path(weights), include, int8, exist_ok)
    extra = {}
    if int8:  # calibration images: the training split of the dataset (a `fraction` of it)
        data_path, _ = check_data(data, split="train")
        extra = {"data": str(data_path), "fraction": fraction}
    check_device(device)
    if push_hub:  # before minutes of exporting
        check_push(push_hub, f"{weights} and its {', '.join(f for f in include if f != 'web') or 'no'} export(s)")
    model = load_model(weights, hint=PT_HINT, pytorch_only=True)
    size = resolve(imgsz, model, weights)
    print(f"Exporting {weights} at {size.describe(weights)}")
    imgsz = size.imgsz
    out = {}
    for fmt in (f for f in include if f != "web"):
        path = model.export(
            format=fmt,
            imgsz=imgsz,
            dynamic=dynamic,
            simplify=simplify,
            batch=batch,
            device=device,
            **precision_args(half, int8),
            **extra,
        )
        out[fmt] = Path(path)
        print(f"{fmt}: {path}")
    if "web" in include:
        onnx = out.get("onnx") if not half else None  # the page feeds float32: an FP16 export would not run
        out["web"] = web_page.build(onnx or weights, web_dir, imgsz if size.why == "--imgsz" else None)
        print(f"web: {out['web']} (serve it: python -m http.server -d {out['web']})")
    if push_hub:
        print(f"Pushed to {push(push_hub, files_to_push(Path(weights), out))}")
    return out


def _check_formats(include: list[str] | tuple[str, ...]) -> None:
    """Before anything is loaded: every format known, and TensorRT only where there is a CUDA GPU."""
    unknown = [f for f in include if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    if "engine" in include:
        import torch

        if not torch.cuda.is_available():  # ultralytics would pick GPU 0 and fail with a traceback
            raise DeviceError(
                "--include engine (TensorRT) needs a CUDA GPU and this machine has none; "
                "choose another format, e.g. --include onnx openvino"
            )


def export_target(weights: Path, fmt: str, int8: bool) -> Path:
    """Where ultralytics' exporter writes `fmt` beside `weights`: its own table's suffix ("_openvino_model"
    is a folder, ".onnx" a file), with its int8 OpenVINO name; TFLite lands in the SavedModel folder."""
    suffixes = dict(zip(export_formats()["Argument"], export_formats()["Suffix"], strict=True))
    suffix = suffixes["saved_model" if fmt == "tflite" else fmt]
    if fmt == "openvino" and int8:
        suffix = "_int8" + suffix
    return weights.with_name(weights.stem + suffix) if suffix.startswith("_") else weights.with_suffix(suffix)


def _check_targets(weights: Path, include: list[str] | tuple[str, ...], int8: bool, exist_ok: bool) -> None:
    """Before minutes of exporting: no export already there is replaced unless the user said so."""
    there = [t for t in (export_target(weights, f, int8) for f in include if f != "web") if t.exists()]
    if there and not exist_ok:
        raise OutputDirError(
            f"{there[0]} already exists; pass --exist-ok to replace it, or export a copy of the weights"
        )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--include", "--format", nargs="+", default=["onnx"], choices=FORMATS, help="formats to export")
    add_flags(p, DetectOptions, ("imgsz",))  # --imgsz, --img, --img-size, as detect.py's
    p.add_argument("--half", action="store_true", help="FP16 (GPU formats)")
    p.add_argument("--int8", action="store_true", help="int8 quantisation (OpenVINO, TFLite, TensorRT)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset yaml: int8 calibration images")
    p.add_argument(
        "--fraction",
        type=float_range(0, 1, lo_open=True),
        default=1.0,
        help="share of training images used to calibrate",
    )
    p.add_argument("--dynamic", action="store_true", help="dynamic input shapes (ONNX, TensorRT)")
    p.add_argument("--no-simplify", dest="simplify", action="store_false", help="skip ONNX simplification")
    p.add_argument("--batch", type=positive_int(), default=1)
    p.add_argument("--device", help="cpu, 0, ...")
    p.add_argument("--exist-ok", action="store_true", help="replace exports already beside the weights")
    p.add_argument("--web-dir", type=Path, default=web_page.PAGE_DIR, help="--include web: the folder to build")
    p.add_argument(
        "--push-hub",
        metavar="OWNER/NAME",
        help="upload the weights, exports and MODEL_CARD.md to the Hugging Face Hub (needs a token: hf auth login)",
    )
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("export.py", run, opt)


if __name__ == "__main__":
    main(parse_opt())
