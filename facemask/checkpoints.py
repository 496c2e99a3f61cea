"""What a run starts from: a local checkpoint, an ultralytics release asset, or a model yaml."""

from __future__ import annotations

from pathlib import Path

from facemask.download import reachable
from facemask.errors import FacemaskError

ASSET_HOST = "github.com"  # ultralytics release assets are served from GitHub
OFFLINE_HINT = (
    "use a local checkpoint (e.g. --weights ../shared/weights/yolov5nu_coco_backbone.pt) "
    "or train from scratch with --cfg yolov5s.yaml"
)


class CheckpointError(FacemaskError, FileNotFoundError):
    """A checkpoint that is neither on disk nor downloadable; the message names the alternatives."""


def resolve_weights(weights: str | Path) -> str:
    """A local path, or an ultralytics asset name it will download; YOLOv5 names map to their 'u' form
    (yolov5s.pt -> yolov5su.pt), the ultralytics YOLOv5 checkpoints."""
    from ultralytics.utils import SETTINGS
    from ultralytics.utils.checks import check_yolov5u_filename
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    path = Path(weights)
    if path.exists():  # a .pt/.onnx file, or an export folder such as *_openvino_model/
        return str(path)
    name = check_yolov5u_filename(path.name, verbose=False)
    for local in (path.with_name(name), Path(SETTINGS["weights_dir"]) / name):
        if local.is_file():
            return str(local)
    if name not in GITHUB_ASSETS_NAMES:
        raise CheckpointError(f"{weights}: no such checkpoint; {OFFLINE_HINT}")
    if not reachable(ASSET_HOST):
        raise CheckpointError(f"{weights} is not on this machine and cannot be downloaded (offline): {OFFLINE_HINT}")
    return name


def load_model(weights: str | Path | None = None, cfg: str | Path | None = None):
    """An ultralytics YOLO model: from `cfg` (scratch, or `weights` transferred into it) or `weights`."""
    from ultralytics import YOLO

    if cfg:
        model = YOLO(str(cfg))
        return model.load(resolve_weights(weights)) if weights else model
    if not weights:
        raise CheckpointError(f"give --weights or --cfg: {OFFLINE_HINT}")
    return YOLO(resolve_weights(weights))


def run_dir(project: str | Path, name: str, exist_ok: bool = False) -> Path:
    """project/name, or name2, name3, ... as YOLOv5 numbers runs (ultralytics 8.4 would say name-2)."""
    from ultralytics.utils.files import increment_path

    return increment_path(Path(project).resolve() / name, exist_ok=exist_ok, sep="")


def precision_args(half: bool = False, int8: bool = False) -> dict[str, int]:
    """YOLOv5's --half/--int8 as ultralytics 8.4 spells them (quantize=16/8; it warns on the old names)."""
    return {"quantize": 8} if int8 else {"quantize": 16} if half else {}
