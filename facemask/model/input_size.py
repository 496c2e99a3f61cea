"""The input size a model runs at: the size it was trained or exported at, unless the user asks.

A model trained at 416 px scores worse at 640 (its faces look larger than any it learnt), and a
fixed-size export (OpenVINO, ONNX without --dynamic) can only run at the size it was exported at:
ultralytics then letterboxes to that size whatever `imgsz` says. So the size comes from the model,
`--imgsz` overrides it where the model allows, and every front end says which size it used and why.
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


@dataclass(frozen=True)
class InputSize:
    imgsz: int
    why: str  # "--imgsz", "trained at", "exported at", "default"

    def describe(self, weights: str | Path) -> str:
        reasons = {
            "--imgsz": "as --imgsz asks",
            "trained at": f"the size {Path(weights).name} was trained at; --imgsz to change",
            "exported at": f"the fixed size {Path(weights).name} was exported at",
            "default": f"{Path(weights).name} records no size; --imgsz to change",
        }
        return f"{self.imgsz} px ({reasons[self.why]})"


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

    graph = onnx.load(str(path), load_external_data=False)
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


def resolve(requested: int | None, model: Any, weights: str | Path) -> InputSize:
    """The size to run `model` at; a fixed-size export asked for another size is refused, naming the
    export command that would make one."""
    size, fixed = native_size(model, weights)
    if fixed and requested and size and requested != size:
        raise CheckpointError(
            f"{shown(str(weights))} is a fixed {size} px export and cannot run at --imgsz {requested}; "
            f"run it at {size}, or export the .pt again: python export.py --imgsz {requested}"
        )
    if requested:
        return InputSize(requested, "--imgsz")
    if size:
        return InputSize(size, "exported at" if fixed else "trained at")
    return InputSize(FALLBACK, "default")
