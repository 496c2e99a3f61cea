"""What a run starts from (a local checkpoint, an ultralytics release asset, a model yaml), where it
writes (a run folder of its own), how a checkpoint is written (atomically), and the device and precision
arguments ultralytics takes."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from facemask.data.download import reachable
from facemask.errors import FacemaskError
from facemask.files import shown

ASSET_HOST = "github.com"  # ultralytics release assets are served from GitHub
#: What to pass instead, for each way a script takes a model: each names only flags that script has.
USE_HINT = "pass a trained model, e.g. --weights weights/face_masks.pt, or an export of one (.onnx, *_openvino_model/)"
PT_HINT = "pass a trained PyTorch model, e.g. --weights weights/face_masks.pt"
TRAIN_HINT = (
    "use a local checkpoint (e.g. --weights ../shared/weights/yolov5nu_coco_backbone.pt) "
    "or train from scratch with --cfg yolov5s.yaml"
)
RESUME_HINT = "pass the last.pt of an interrupted run, e.g. --resume runs/train/exp/weights/last.pt"
LFS_POINTER = b"version https://git-lfs"


class CheckpointError(FacemaskError, FileNotFoundError):
    """A checkpoint that is not on disk, not downloadable, or not a model; the message says what to
    pass instead."""


class DeviceError(FacemaskError, ValueError):
    """A --device this machine does not have."""


def resolve_weights(weights: str | Path, hint: str = USE_HINT) -> str:
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
        raise CheckpointError(f"{shown(str(weights))}: no such checkpoint; {hint}")
    if not reachable(ASSET_HOST):
        raise CheckpointError(f"{weights} is not on this machine and cannot be downloaded (offline): {hint}")
    return name


def export_format(path: Path) -> str | None:
    """The ultralytics format a path's name says ('pt', 'onnx', 'openvino', ...), or None."""
    from ultralytics.engine.exporter import export_formats

    formats = export_formats()
    name = path.name.lower().rstrip("/")
    found = [(len(s), f) for s, f in zip(formats["Suffix"], formats["Argument"], strict=True) if name.endswith(s)]
    return "pt" if name.endswith(".pt") else max(found)[1] if found else None


def check_weights_file(path: Path, hint: str = USE_HINT) -> None:
    """Refuse, saying what it is, a model path that cannot be one: empty, a Git LFS pointer (the model
    itself never fetched), an image or text, a model yaml, or a .pt that is truncated or damaged. A .pt
    is a zip whose checksums are verified here: torch does not, and loads flipped bytes as wrong weights."""
    fmt = export_format(path)
    if path.is_dir():
        if fmt is None or fmt == "pt":
            raise CheckpointError(f"{shown(str(path))} is a folder, not a model (nor an export folder); {hint}")
        return
    try:
        with path.open("rb") as f:
            head = f.read(64)
        is_zip = zipfile.is_zipfile(path)  # what torch has saved since 1.6
        damaged = _damaged_member(path) if fmt == "pt" and is_zip else None
    except OSError as e:
        raise CheckpointError(f"cannot read {shown(str(path))} ({e.strerror}); {hint}") from None
    except (zipfile.BadZipFile, EOFError) as e:  # a zip whose headers are damaged
        raise CheckpointError(f"{shown(str(path))} is truncated or damaged ({e}); {hint}") from None
    what = _not_a_model(path, head)
    if what is None and fmt == "pt" and not is_zip:
        what = _not_pytorch(head)
    if what is None and damaged:
        what = f"is damaged (wrong checksum of {damaged} inside it: copy or download it again)"
    if what is None and path.suffix.lower() in (".yaml", ".yml"):
        what = "is a model definition, not trained weights"
    if what is None and fmt is None:
        what = "is not a model file (.pt, or an export: .onnx, ...)"
    if what:
        raise CheckpointError(f"{shown(str(path))} {what}; {hint}")


def _damaged_member(path: Path) -> str | None:
    """The first member of a zip whose checksum is wrong, or None."""
    with zipfile.ZipFile(path) as z:
        return z.testzip()


def _not_a_model(path: Path, head: bytes) -> str | None:
    """What a file is that cannot be a model of any format, from its first bytes; else None."""
    if not head:
        return "is empty (0 bytes)"
    if head.startswith(LFS_POINTER):
        return "is a Git LFS pointer, not the model itself: fetch it with `git lfs pull`"
    try:
        with Image.open(path) as im:
            return f"is an image ({im.format}), not a model"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _not_pytorch(head: bytes) -> str | None:
    """What a .pt file is that is not a complete zip; None for a pickle (torch's format before zips)."""
    if head.startswith(b"\x80"):
        return None
    if head.startswith(b"PK"):
        return "is truncated or damaged (an incomplete zip archive)"
    try:
        text = head.decode("utf-8") and b"\0" not in head
    except UnicodeDecodeError:
        text = False
    return "is a text file, not a PyTorch checkpoint" if text else "is not a PyTorch checkpoint"


#: What ultralytics and torch raise for a file that unpickles but is not a YOLO model (ultralytics wraps
#: torch's own errors for truncated and corrupted files into TypeError).
LOAD_ERRORS = (TypeError, AttributeError, KeyError, RuntimeError, EOFError, pickle.UnpicklingError)


def load_model(
    weights: str | Path | None = None, cfg: str | Path | None = None, hint: str = USE_HINT, pytorch_only: bool = False
):
    """An ultralytics YOLO model: from `cfg` (scratch, or `weights` transferred into it) or `weights`.
    Anything that is not a usable model raises CheckpointError naming the file and `hint`, what the
    calling script takes instead; `pytorch_only` (training, exporting) refuses exports."""
    from ultralytics import YOLO

    if not weights and not cfg:
        raise CheckpointError(f"no model given: {hint}")
    path = Path(resolve_weights(weights, hint)) if weights else None
    if path is not None and path.exists():
        check_weights_file(path, hint)
        if pytorch_only and export_format(path) != "pt":
            raise CheckpointError(f"{shown(str(path))} is an export; this needs the PyTorch .pt model: {hint}")
    if cfg:
        try:
            model = YOLO(str(cfg))
        except FileNotFoundError:
            raise CheckpointError(f"--cfg {cfg}: no such model yaml (e.g. yolov5s.yaml, or a path to one)") from None
        except (KeyError, ValueError, TypeError) as e:
            raise CheckpointError(f"--cfg {cfg} is not a model yaml ({e}); e.g. --cfg yolov5s.yaml") from e
        if path is None:
            return model
    try:
        return model.load(str(path)) if cfg else YOLO(str(path))
    except LOAD_ERRORS as e:
        raise load_error(path, e, hint) from e


def load_error(path: str | Path, e: Exception, hint: str = USE_HINT) -> CheckpointError:
    """The CheckpointError for a model ultralytics failed to load with `e` (one of LOAD_ERRORS); exports
    load lazily, on first use, so their users call this too."""
    reason = " ".join(str(e).replace("ERROR ❌️", "").split())  # one line, without ultralytics' prefix
    reason = reason if len(reason) <= 160 else reason[:157] + "..."
    return CheckpointError(f"{shown(str(path))} is not a YOLO model ultralytics can load ({reason}); {hint}")


def check_device(device: str | int | list | tuple | None) -> None:
    """A --device this machine has, checked before a model is loaded: ultralytics would raise deep in
    predict or train, after printing its banner. None, '' and 'cpu' (and 'mps', '-1': ultralytics picks)
    always pass; GPUs are given as '0', 'cuda:0', '0,1' or a list of indices."""
    items = device if isinstance(device, list | tuple) else str("" if device is None else device).split(",")
    ids = [str(d).strip().lower().removeprefix("cuda:") for d in items]
    if ",".join(ids) in ("", "cpu", "mps", "-1"):
        return
    import torch

    count = torch.cuda.device_count()
    if not all(d.isdigit() and int(d) < count for d in ids):
        have = f"CUDA GPUs 0 to {count - 1}" if count else "no CUDA GPU"
        raise DeviceError(
            f"--device {device}: this machine has {have}; pass --device cpu"
            + (f" or a GPU index below {count}" if count else "")
        )


def precision_args(half: bool = False, int8: bool = False) -> dict[str, int]:
    """YOLOv5's --half/--int8 as ultralytics 8.4 spells them (quantize=16/8; it warns on the old names)."""
    return {"quantize": 8} if int8 else {"quantize": 16} if half else {}


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A temporary file beside `path` (.<name>.<pid>.tmp) for the block to write `path`'s new content to; when
    the block ends, it is flushed to disk and renamed over `path` (os.replace: atomic on one file system). So
    a process killed at any moment leaves the old file or the new one, never a part of one (torch.load fails
    on a cut-off checkpoint). If the block fails, or writes nothing, `path` is left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        if tmp.exists():
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)  # else a power cut soon after the rename may leave an empty file under the name
            finally:
                os.close(fd)
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomically(path: str | Path, data: bytes) -> None:
    """`path` holds `data`, or (if this is cut short) what it held before: see `replacing`."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
