"""What the web app does, apart from its layout: which models it offers, the limits on uploads, and the
calls into detect.py's own inference (Detector, Annotator, counting), so there is one inference path.

Errors meant for the person using the app are `UserError`s; app.py shows them as messages."""

from __future__ import annotations

import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facemask.annotate import Annotator, draw_tally
from facemask.counting import class_counts, share_masked
from facemask.data_yaml import PROJECT_ROOT
from facemask.detector import Detector, DetectorSettings
from facemask.media import iter_frames
from facemask.outputs import detection_records
from facemask.tracking import ComplianceCounter

WEIGHTS_DIR = PROJECT_ROOT / "weights"
EXAMPLES_DIR = PROJECT_ROOT / "examples"
MAX_UPLOAD = "25mb"  # per file, enforced by gradio before our code runs
MAX_PIXELS = 40_000_000  # an image above this is refused (decoding it would take seconds and GBs)
MAX_VIDEO_FRAMES = 1800  # frames analysed per video (a minute at 30 fps); longer videos are cut
IMGSZ = 640
VIDEO_BUCKET_S = 10.0  # compliance per 10 s of an uploaded video
LIVE_FPS = 5.0  # the Live tab streams a frame every 0.2 s


class UserError(ValueError):
    """A problem with what the user sent; its message is shown to them as it is."""


def available_models(folder: Path = WEIGHTS_DIR) -> list[str]:
    """Model names offered in the app: the .pt files of weights/ and their exports beside them."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.suffix in (".pt", ".onnx", ".torchscript")]
    found += [p for p in folder.iterdir() if p.is_dir() and p.name.endswith("_openvino_model")]
    return sorted(p.name for p in found)


@lru_cache(maxsize=4)
def _load(name: str) -> tuple[Detector, threading.Lock]:
    return Detector(WEIGHTS_DIR / name, DetectorSettings(imgsz=IMGSZ)), threading.Lock()


def detector_for(name: str) -> tuple[Detector, threading.Lock]:
    """Only names from available_models(): a client cannot make the server load a path of its choosing."""
    if name not in available_models():
        raise UserError(f"Unknown model {name!r}; choose one of: {', '.join(available_models()) or 'none'}")
    return _load(name)


def _check_thresholds(conf: float, iou: float) -> None:
    if not (0 <= conf <= 1 and 0 <= iou <= 1):
        raise UserError("Confidence and IoU thresholds must be between 0 and 1")


def read_upload(path: str | None) -> np.ndarray:
    """An uploaded image as RGB, refusing what is not an image or is too large, with a clear message."""
    if not path:
        raise UserError("No image received: upload, paste or take a photo first")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise UserError(
                    f"Image too large: {im.width}x{im.height} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels"
                )
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except UserError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UserError("That file is not an image this app can read (JPEG, PNG, WebP, BMP, HEIC, ...)") from None
    except (OSError, SyntaxError, ValueError):
        raise UserError("That image is damaged or truncated and cannot be read") from None


def detect_rgb(rgb: np.ndarray, model: str, conf: float, iou: float, blur: bool) -> tuple[np.ndarray, dict, list]:
    """Annotated RGB image, counts (per class and share masked) and detections, for one RGB image."""
    _check_thresholds(conf, iou)
    detector, lock = detector_for(model)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    with lock:  # an ultralytics model is not safe to call from two threads at once
        detector.settings.conf, detector.settings.iou = conf, iou
        prediction = detector(bgr)
    annotated = Annotator(detector.names, blur_faces=blur)(bgr, prediction.detections)
    counts = class_counts(prediction.detections, detector.names)
    return annotated[:, :, ::-1], summary(counts), detection_records(prediction.detections, detector.names)


def summary(counts: dict[str, int]) -> dict[str, Any]:
    share = share_masked(counts)
    return {**counts, "faces": sum(counts.values()), "share masked": None if share is None else round(share, 3)}


def detect_video(path: str | None, model: str, conf: float, iou: float, blur: bool, track: bool = False,
                 progress=None):  # fmt: skip
    """Annotated WebM video (browsers play it), faces per class over time, totals, per-frame records.
    With `track`, faces are followed and counted as people (totals gain a 'people' summary)."""
    if not path:
        raise UserError("No video received: upload one first")
    _check_thresholds(conf, iou)
    detector, lock = detector_for(model)
    annotate = Annotator(detector.names, blur_faces=blur)
    out = Path(tempfile.mkdtemp(prefix="facemask-")) / f"{Path(path).stem}_faces.webm"
    writer, timeline, records, people = None, [], [], None
    try:
        for frame in iter_frames(path):
            if frame.error:
                raise UserError("That file is not a video this app can read (MP4, WebM, MOV, AVI, ...)")
            if frame.index >= MAX_VIDEO_FRAMES:
                break
            with lock:
                detector.settings.conf, detector.settings.iou = conf, iou
                prediction = detector(frame.image)
            counts = class_counts(prediction.detections, detector.names)
            detections = prediction.detections
            if track:
                people = people or ComplianceCounter(None, "", detector.names, frame.fps, interval_s=VIDEO_BUCKET_S)
                detections = people.update(detections, frame.index, frame.index / people.fps, frame.image)
            annotated = annotate(frame.image, detections)
            if people is not None:
                draw_tally(annotated, people.tally_text())
            if writer is None:
                h, w = annotated.shape[:2]
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"VP80"), frame.fps or 25.0, (w, h))
            writer.write(annotated)
            seconds = frame.index / (frame.fps or 25.0)
            timeline += [{"time (s)": round(seconds, 2), "class": c, "faces": n} for c, n in counts.items()]
            records.append({"frame": frame.index, "time_s": round(seconds, 2), "counts": counts})
            if progress is not None and frame.total:
                progress(min(frame.index, MAX_VIDEO_FRAMES) / min(frame.total, MAX_VIDEO_FRAMES), desc="Detecting")
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise UserError("That video has no frames")
    totals: dict[str, int] = {}
    for r in records:
        for c, n in r["counts"].items():
            totals[c] = totals.get(c, 0) + n
    result = {"frames": len(records), **summary(totals)}
    if people is not None:
        s = people.close()
        result["people"] = {k: s[k] for k in ("people", "masked", "unmasked", "compliance_rate", "people_list")}
    return str(out), timeline, result, records


def detect_live(rgb: np.ndarray, model: str, conf: float, iou: float, blur: bool, track: bool,
                state: dict | None) -> tuple[np.ndarray, dict, dict | None]:  # fmt: skip
    """One webcam frame; with `track`, people are counted across the session's frames (kept in `state`)."""
    if not track:
        annotated, counts, _ = detect_rgb(rgb, model, conf, iou, blur)
        return annotated, counts, None
    _check_thresholds(conf, iou)
    detector, lock = detector_for(model)
    if not state or state.get("model") != model:
        state = {"model": model, "start": time.monotonic(), "frames": 0,
                 "counter": ComplianceCounter(None, "", detector.names, LIVE_FPS, interval_s=60.0)}  # fmt: skip
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    with lock:
        detector.settings.conf, detector.settings.iou = conf, iou
        prediction = detector(bgr)
    counter: ComplianceCounter = state["counter"]
    tracked = counter.update(prediction.detections, state["frames"], time.monotonic() - state["start"], bgr)
    state["frames"] += 1
    annotated = draw_tally(Annotator(detector.names, blur_faces=blur)(bgr, tracked), counter.tally_text())
    return annotated[:, :, ::-1], {**summary(class_counts(prediction.detections, detector.names)),
                                   "people": counter.tally()}, state  # fmt: skip
