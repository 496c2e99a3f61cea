"""What the app's photo and webcam requests run: the models it offers (weights/ only, each loaded once and
shared) and a pipeline per request, detect.py's own (facemask.inference.pipeline), so there is one inference
path. The Video tab's job is facemask/app/video.py; what an upload may be, facemask/app/uploads.py.

Errors meant for the person using the app are `UserError`s; app.py shows them as messages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from facemask.app.errors import UserError
from facemask.app.scratch import image_file
from facemask.app.uploads import check_pixels, read_upload
from facemask.inference.annotate import Annotator
from facemask.inference.counting import Tally
from facemask.inference.detector import Detector, DetectorSettings, PredictOptions
from facemask.inference.media import Frame
from facemask.inference.outputs import detection_records
from facemask.inference.pipeline import PeopleFactory, Pipeline
from facemask.inference.tracking import ComplianceCounter
from facemask.model.checkpoints import CheckpointError
from facemask.paths import WEIGHTS_DIR

LIVE_FPS = 5.0  # the Live tab streams a frame every 0.2 s
APP_HINT = "choose another model, or have the server's weights/ folder hold a trained one"


def available_models(folder: Path | None = None) -> list[str]:
    """Model names offered in the app: the .pt files of weights/ (or `folder`) and their exports beside them."""
    folder = WEIGHTS_DIR if folder is None else folder
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.suffix in (".pt", ".onnx", ".torchscript")]
    found += [p for p in folder.iterdir() if p.is_dir() and p.name.endswith("_openvino_model")]
    return sorted(p.name for p in found)


@lru_cache(maxsize=4)
def _load(name: str) -> Detector:
    """A model of weights/, once, shared by every request (each passes its own PredictOptions); a damaged
    one is a message naming it, not the server's path."""
    path = WEIGHTS_DIR / name
    try:
        return Detector(path, DetectorSettings(), hint=APP_HINT)  # at the model's own size
    except CheckpointError as e:
        raise UserError(f"The model {str(e).replace(str(path), name)}") from None


def detector_for(name: str) -> Detector:
    """Only names from available_models(): a client cannot make the server load a path of its choosing."""
    if name not in available_models():
        raise UserError(f"Unknown model {name!r}; choose one of: {', '.join(available_models()) or 'none'}")
    return _load(name)


def request_pipeline(model: str, options: PredictOptions, blur: bool, people: PeopleFactory | None = None) -> Pipeline:
    """A pipeline for one request: the shared model, this request's thresholds (they go with each call, never
    into the detector, so visitors do not change each other's results) and drawing."""
    if not (0 <= options.conf <= 1 and 0 <= options.iou <= 1):
        raise UserError("Confidence and IoU thresholds must be between 0 and 1")
    detector = detector_for(model)
    return Pipeline(detector, options, Annotator(detector.names, blur_faces=blur), people)


def summary(counts: dict[str, int]) -> dict[str, Any]:
    """Faces per class with their total and the compliance rate: the counts every tab shows."""
    return {**counts, "faces": sum(counts.values()), "compliance_rate": Tally.of_counts(counts).rate}


def detect_rgb(
    rgb: np.ndarray, model: str, conf: float, iou: float, blur: bool, tile: bool = False, augment: bool = False
) -> tuple[np.ndarray, dict, list]:
    """Annotated RGB image, counts (per class and the compliance rate) and detections, for one RGB image."""
    check_pixels(rgb.shape[1], rgb.shape[0])
    pipeline = request_pipeline(model, PredictOptions(conf=conf, iou=iou, tile=tile, augment=augment), blur)
    result = pipeline.process(Frame(source="upload", name="upload", image=np.ascontiguousarray(rgb[:, :, ::-1])))
    ran_at = pipeline.detector.input_size.for_image(*rgb.shape[:2])  # a large photo at the large size
    counts_json = {**summary(result.counts), "imgsz": ran_at}
    return result.annotated[:, :, ::-1], counts_json, detection_records(result.detections, pipeline.names)


def detect_photo(
    path: str | None, model: str, conf: float, iou: float, blur: bool, tile: bool = False, augment: bool = False
) -> tuple[str, dict, list]:
    """The Image tab: an uploaded photo's annotated copy (a file), counts and detections."""
    annotated, counts, detections = detect_rgb(read_upload(path), model, conf, iou, blur, tile, augment)
    return image_file(annotated), counts, detections


def _live_people(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
    return ComplianceCounter(None, "", names, LIVE_FPS, interval_s=60.0)


def detect_live(
    rgb: np.ndarray, model: str, conf: float, iou: float, blur: bool, track: bool, state: dict | None
) -> tuple[np.ndarray, dict, dict | None]:
    """One webcam frame; with `track`, people are counted across the session's frames (its pipeline, with
    the people counter, is kept in `state`)."""
    if not track:
        annotated, counts, _ = detect_rgb(rgb, model, conf, iou, blur)
        return annotated, counts, None
    check_pixels(rgb.shape[1], rgb.shape[0])
    pipeline = request_pipeline(model, PredictOptions(conf=conf, iou=iou), blur, people=_live_people)
    if state and state.get("model") == model:  # the session's people go on; the sliders may have moved
        state["pipeline"].options, state["pipeline"].annotator = pipeline.options, pipeline.annotator
    else:
        state = {"model": model, "frames": 0, "pipeline": pipeline}
    image = np.ascontiguousarray(rgb[:, :, ::-1])
    frame = Frame(source="webcam", name="webcam", image=image, index=state["frames"], is_video=True, live=True)
    result = state["pipeline"].process(frame)
    state["frames"] += 1
    return result.annotated[:, :, ::-1], {**summary(result.counts), "people": result.people.tally().row()}, state
