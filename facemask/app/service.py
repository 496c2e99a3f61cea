"""What the web app does, apart from its layout: which models it offers, the limits on uploads, and the
pipelines it builds for each request: detect.py's own (facemask.inference.pipeline), so there is one
inference path.

Errors meant for the person using the app are `UserError`s; app.py shows them as messages."""

from __future__ import annotations

import errno
import shutil
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from facemask.errors import FacemaskError
from facemask.images import ImageTooLarge, NotAnImage, UnreadableImage, load_image
from facemask.inference.annotate import Annotator
from facemask.inference.counting import Tally
from facemask.inference.detector import Detector, DetectorSettings, PredictOptions
from facemask.inference.media import MAX_SIDE, VIDEO_SUFFIXES, Frame, iter_video
from facemask.inference.outputs import detection_records
from facemask.inference.pipeline import BaseSink, FrameResult, PeopleFactory, Pipeline, Sink
from facemask.inference.tracking import DEFAULT_FPS, ComplianceCounter
from facemask.model.checkpoints import CheckpointError
from facemask.paths import WEIGHTS_DIR

MAX_UPLOAD = "25mb"  # per file, enforced by gradio before our code runs
MAX_PIXELS = 40_000_000  # per image or webcam frame: more would take seconds and GBs
MAX_VIDEO_PIXELS = 3840 * 2160  # per video frame (4K)
MAX_VIDEO_FRAMES = 1800  # frames analysed per video (a minute at 30 fps); longer videos are cut
VIDEO_BUCKET_S = 10.0  # compliance per 10 s of an uploaded video
LIVE_FPS = 5.0  # the Live tab streams a frame every 0.2 s
SCRATCH = Path(tempfile.gettempdir()) / "facemask-app"  # annotated videos, removed after SCRATCH_TTL_S
SCRATCH_TTL_S = 3600
APP_HINT = "choose another model, or have the server's weights/ folder hold a trained one"


class UserError(FacemaskError, ValueError):
    """A problem with what the user sent; its message is shown to them as it is."""


class ServeError(FacemaskError, OSError):
    """The app cannot listen where it was told to."""


def check_listen(host: str, port: int) -> None:
    """Raise ServeError, in words, when the app could not listen on host:port (the port taken, or not
    allowed; the host not this machine's), before gradio starts its server and fails with a traceback."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise ServeError(f"--host {host}: not an address or host name this machine knows") from None
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as e:
            reason = {
                errno.EADDRINUSE: f"port {port} is taken by another program: stop it, or pass --port with a free one",
                errno.EACCES: f"port {port} needs administrator rights: pass --port 1024 or above",
                errno.EADDRNOTAVAIL: f"--host {host} is not an address of this machine: try 127.0.0.1 or 0.0.0.0",
            }.get(e.errno, f"cannot listen on {host}:{port} ({e.strerror})")
            raise ServeError(reason) from None


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


def _pipeline(
    model: str,
    conf: float,
    iou: float,
    blur: bool,
    tile: bool = False,
    augment: bool = False,
    people: PeopleFactory | None = None,
) -> Pipeline:
    """A pipeline for one request: the shared model, this request's thresholds (they go with each call, never
    into the detector, so visitors do not change each other's results) and drawing."""
    if not (0 <= conf <= 1 and 0 <= iou <= 1):
        raise UserError("Confidence and IoU thresholds must be between 0 and 1")
    detector = detector_for(model)
    options = PredictOptions(conf=conf, iou=iou, tile=tile, augment=augment)
    return Pipeline(detector, options, Annotator(detector.names, blur_faces=blur), people)


def _refusal(e: UnreadableImage) -> UserError:
    """Why an image is refused, in the app's words."""
    if isinstance(e, ImageTooLarge):
        return UserError(f"Image {e}")
    if isinstance(e, NotAnImage):
        return UserError("That file is not an image this app can read (JPEG, PNG, WebP, BMP, HEIC, ...)")
    return UserError("That image is damaged or truncated and cannot be read")


def _check_pixels(width: int, height: int, limit: int = MAX_PIXELS) -> None:
    if width * height > limit:
        raise _refusal(ImageTooLarge((width, height), limit))


def read_upload(path: str | None) -> np.ndarray:
    """An uploaded image as RGB, read as detect.py reads files (huge ones reduced); refused with a clear
    message when it is not an image, is damaged, or is too large (checked from the header, before decoding)."""
    if not path:
        raise UserError("No image received: upload, paste or take a photo first")
    try:
        return np.asarray(load_image(path, MAX_PIXELS, MAX_SIDE).image)
    except UnreadableImage as e:
        raise _refusal(e) from None


def summary(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "faces": sum(counts.values()), "compliance_rate": Tally.of_counts(counts).rate}


def detect_rgb(
    rgb: np.ndarray, model: str, conf: float, iou: float, blur: bool, tile: bool = False, augment: bool = False
) -> tuple[np.ndarray, dict, list]:
    """Annotated RGB image, counts (per class and the compliance rate) and detections, for one RGB image."""
    _check_pixels(rgb.shape[1], rgb.shape[0])
    pipeline = _pipeline(model, conf, iou, blur, tile, augment)
    result = pipeline.process(Frame(source="upload", name="upload", image=np.ascontiguousarray(rgb[:, :, ::-1])))
    counts_json = {**summary(result.counts), "imgsz": pipeline.detector.input_size.imgsz}  # the size it ran at
    return result.annotated[:, :, ::-1], counts_json, detection_records(result.detections, pipeline.names)


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
    _check_pixels(rgb.shape[1], rgb.shape[0])
    pipeline = _pipeline(model, conf, iou, blur, people=_live_people)
    if state and state.get("model") == model:  # the session's people go on; the sliders may have moved
        state["pipeline"].options, state["pipeline"].annotator = pipeline.options, pipeline.annotator
    else:
        state = {"model": model, "frames": 0, "pipeline": pipeline}
    frame = Frame(
        source="webcam",
        name="webcam",
        image=np.ascontiguousarray(rgb[:, :, ::-1]),
        index=state["frames"],
        is_video=True,
        live=True,
    )
    result = state["pipeline"].process(frame)
    state["frames"] += 1
    return result.annotated[:, :, ::-1], {**summary(result.counts), "people": result.people.tally().row()}, state


def _scratch_dir() -> Path:
    """A fresh folder for one video's output; folders older than SCRATCH_TTL_S are removed first."""
    SCRATCH.mkdir(exist_ok=True)
    for old in SCRATCH.iterdir():
        if time.time() - old.stat().st_mtime > SCRATCH_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=SCRATCH))


def image_file(rgb: np.ndarray) -> str:
    """The annotated image as a file of its own. Returned as an array, gradio would write it to a cache
    path named after its content, rewriting that file in place for each identical result: a client
    fetching it meanwhile gets a cut-off image (seen under load). Files are copied in atomically."""
    path = _scratch_dir() / "detections.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    return str(path)


class _VideoSink(BaseSink):
    """An uploaded video's results: the annotated WebM (browsers play it), faces per class over time, and
    per-frame records."""

    def __init__(self, out: Path, progress=None):
        self.out, self.progress = out, progress
        self.writer: cv2.VideoWriter | None = None
        self.timeline: list[dict] = []
        self.records: list[dict] = []

    def write(self, result: FrameResult) -> None:
        frame, annotated = result.frame, result.annotated
        fps = frame.fps or DEFAULT_FPS
        if self.writer is None:
            h, w = annotated.shape[:2]
            self.writer = cv2.VideoWriter(str(self.out), cv2.VideoWriter_fourcc(*"VP80"), fps, (w, h))
        self.writer.write(annotated)
        seconds = round(frame.index / fps, 2)
        self.timeline += [{"time (s)": seconds, "class": c, "faces": n} for c, n in result.counts.items()]
        self.records.append({"frame": frame.index, "time_s": seconds, "counts": result.counts})
        if self.progress is not None and frame.total:
            self.progress(min(frame.index / min(frame.total, MAX_VIDEO_FRAMES), 1.0), desc="Detecting")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def _video_frames(path: str, left_out: list[Frame]) -> Iterator[Frame]:
    """The frames of an upload, within the app's limits (the first frame past them goes to `left_out`); an
    unreadable video is a UserError."""
    for frame in iter_video(path):
        frame.source = upload_source(path)  # what its events and metrics name: not the server's temporary path
        if frame.error:
            raise UserError(
                "That video has no frames"
                if frame.error == "video has no frames"
                else "That file is not a video this app can read"
            )
        if frame.index >= MAX_VIDEO_FRAMES:
            left_out.append(frame)
            return
        _check_pixels(frame.image.shape[1], frame.image.shape[0], MAX_VIDEO_PIXELS)
        yield frame


def cut_note(analysed: int, past: Frame) -> str:
    """What a video cut at MAX_VIDEO_FRAMES lost, in words: 'Analysed the first 1,800 of 5,400 frames (60 s
    of 180 s) ...'; `past` is the first frame left out (it knows the video's length, when the file says)."""
    fps = past.fps or DEFAULT_FPS

    def seconds(frames: int) -> str:
        return f"{frames / fps:,.1f}".removesuffix(".0") + " s"

    if past.total and past.total > analysed:
        done = f"the first {analysed:,} of {past.total:,} frames ({seconds(analysed)} of {seconds(past.total)})"
    else:
        done = f"the first {analysed:,} frames ({seconds(analysed)}) of a longer video"
    return (
        f"Analysed {done}: the app analyses at most {MAX_VIDEO_FRAMES:,} frames of a video and the rest was "
        "not looked at (detect.py reads every frame)"
    )


def upload_source(path: str) -> str:
    """An uploaded video as a source: 'upload:clip.mp4'."""
    return f"upload:{Path(path).name}"


def detect_video(
    path: str | None,
    model: str,
    conf: float,
    iou: float,
    blur: bool,
    track: bool = False,
    progress=None,
    sinks: Sequence[Sink] = (),
):
    """Annotated WebM video, faces per class over time, totals, per-frame records. With `track`, faces are
    followed and counted as people (totals gain a 'people' summary). `sinks` get the frames' results too
    (the app's EventSink)."""
    if not path:
        raise UserError("No video received: upload one first")
    if Path(path).suffix.lower() not in VIDEO_SUFFIXES:
        raise UserError(f"That file is not a video this app can read ({', '.join(sorted(VIDEO_SUFFIXES))})")
    people_rows: list[dict] = []

    def people(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
        return ComplianceCounter(
            None, "", names, frame.fps or DEFAULT_FPS, interval_s=VIDEO_BUCKET_S, on_person=people_rows.append
        )

    pipeline = _pipeline(model, conf, iou, blur, people=people if track else None)
    folder = _scratch_dir()
    sink, left_out = _VideoSink(folder / f"{Path(path).stem}_faces.webm", progress), []
    try:
        people_summaries = pipeline.run(_video_frames(path, left_out), [sink, *sinks])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    totals: Counter[str] = Counter()
    for r in sink.records:
        totals.update(r["counts"])  # update, not +: a class seen 0 times stays in the totals
    result = {"frames": len(sink.records), **summary(dict(totals))}
    if left_out:
        result["note"] = cut_note(len(sink.records), left_out[0])
    if track:
        s = people_summaries.get(upload_source(path)) or Tally().row()
        result["people"] = {
            **{k: s[k] for k in ("people", "masked", "unmasked", "compliance_rate")},
            "people_list": people_rows,
        }
    return str(sink.out), sink.timeline, result, sink.records
