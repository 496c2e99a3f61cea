"""The input size a model runs at: the size it was trained or exported at, unless the user asks; and
photos larger than LARGE_PHOTO run at LARGE_PHOTO.

A model trained at 416 px scores worse at 640 on portraits (their faces look larger than any it
learnt), and a fixed-size export (OpenVINO, ONNX without --dynamic) can only run at the size it was
exported at: ultralytics then letterboxes to that size whatever `imgsz` says. So the size comes from
the model, `--imgsz` overrides it where the model allows, and every front end says which size it used
and why. But a photo with more pixels than the model's size holds crowds whose faces shrink below what
the model sees: at 640 px such photos gave 512-px models more of their small and unmasked faces, while
the small photos (portraits, upscaled either way) lose at 640. So a photo whose long side is over
LARGE_PHOTO runs at LARGE_PHOTO (MODEL_CARD "Inference size": crowd val mAP@0.5 0.667 -> 0.698, all
photos 0.775 -> 0.795; at 640 for all, portraits fell 0.882 -> 0.731). The crowd run's pick, swept at
640/704/768 on val, does best at 768 (crowd mAP@0.5 0.785 -> 0.803, faces under 16 px 0.395 -> 0.605). It
applies when the size is the model's own, not with --imgsz nor to a fixed-size export.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facemask.files import shown
from facemask.model.checkpoints import CheckpointError
from facemask.yaml_io import load_yaml

FALLBACK = 640  # a model that records no size (a bare TorchScript file): ultralytics' default
LARGE_PHOTO = 768  # a photo longer than this on its long side runs at this size (module docstring)


@dataclass(frozen=True)
class InputSize:
    imgsz: int
    why: str  # "--imgsz", "trained at", "exported at", "default"
    large: int | None = None  # photos longer than this run at this size; None: every photo at imgsz

    def for_image(self, height: int, width: int) -> int:
        """The size one photo runs at."""
        return self.large if self.large and max(height, width) > self.large else self.imgsz

    def describe(self, weights: str | Path) -> str:
        reasons = {
            "--imgsz": "as --imgsz asks",
            "trained at": f"the size {Path(weights).name} was trained at; --imgsz to change",
            "exported at": f"the fixed size {Path(weights).name} was exported at",
            "default": f"{Path(weights).name} records no size; --imgsz to change",
        }
        large = f", photos over {self.large} px at {self.large}" if self.large else ""
        return f"{self.imgsz} px ({reasons[self.why]}{large})"


def native_size(model: Any, weights: str | Path) -> tuple[int | None, bool]:
    """(the size the model was trained or exported at, whether an export is fixed to it). `model` is
    the ultralytics YOLO object: a .pt carries its training arguments."""
    ckpt = getattr(model, "ckpt", None)
    if isinstance(ckpt, dict) and ckpt.get("train_args", {}).get("imgsz"):
        return _side(ckpt["train_args"]["imgsz"]), False
    path = Path(weights)
    metadata = path / "metadata.yaml" if path.is_dir() else None
    if metadata is not None and metadata.is_file():  # OpenVINO and other export folders
        meta = load_yaml(metadata, CheckpointError, "export metadata")
        return _side(meta.get("imgsz")), not (meta.get("args") or {}).get("dynamic", False)
    if path.suffix.lower() == ".onnx" and path.is_file():
        return _onnx_size(path)
    return None, False


def _onnx_size(path: Path) -> tuple[int | None, bool]:
    import onnx
    from google.protobuf.message import DecodeError  # onnx's own dependency

    try:
        graph = onnx.load(str(path), load_external_data=False)
    except DecodeError as e:
        raise CheckpointError(f"{shown(str(path))} cannot be read as an ONNX model ({e}); export it again") from e
    meta = {p.key: p.value for p in graph.metadata_props}
    dims = graph.graph.input[0].type.tensor_type.shape.dim if graph.graph.input else []
    fixed = len(dims) == 4 and all(d.HasField("dim_value") for d in dims[2:])
    size = _side(ast.literal_eval(meta["imgsz"])) if "imgsz" in meta else (dims[2].dim_value if fixed else None)
    return size, fixed


def _side(imgsz: Any) -> int | None:
    """ultralytics records 416, [416] or [416, 416]; the longer side is what --imgsz means."""
    if isinstance(imgsz, list | tuple):
        return int(max(imgsz)) if imgsz else None
    return int(imgsz) if imgsz else None


def resolve(requested: int | None, model: Any, weights: str | Path, large: int | None = None) -> InputSize:
    """The size to run `model` at; a fixed-size export asked for another size is refused, naming the
    export command that would make one. `large` (LARGE_PHOTO for detect.py): photos longer than it run at
    it, when the size is the model's own and smaller, and the model is not a fixed-size export."""
    size, fixed = native_size(model, weights)
    if fixed and requested and size and requested != size:
        raise CheckpointError(
            f"{shown(str(weights))} is a fixed {size} px export and cannot run at --imgsz {requested}; "
            f"run it at {size}, or export the .pt again: python export.py --imgsz {requested}"
        )
    if requested:
        return InputSize(requested, "--imgsz")
    if fixed and size:
        return InputSize(size, "exported at")
    own = InputSize(size, "trained at") if size else InputSize(FALLBACK, "default")
    return InputSize(own.imgsz, own.why, large) if large and large > own.imgsz else own
