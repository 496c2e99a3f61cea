"""The app's Cameras tab: a venue's cameras (a .streams file) watched by one pipeline for the whole app.

One background thread runs detect.py's pipeline over every camera at once (facemask.inference.streams),
tracking and counting people per camera; a sink keeps each camera's newest annotated frame and tally.
Visitors only read that: however many people watch, from however many browsers, the cameras are
analysed once. A camera that fails is shown as such and retried by the reader; the others go on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facemask.app.errors import ServeError, UserError
from facemask.app.service import available_models, detector_for
from facemask.files import shown
from facemask.inference.annotate import Annotator
from facemask.inference.counting import Tally
from facemask.inference.detector import Detector, PredictOptions
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline, Sink
from facemask.inference.sources import SourceError, read_streams_file
from facemask.inference.streams import MultiSource, source_names
from facemask.inference.tracking import ComplianceCounter

VIEW_WIDTH = 640  # frames are kept reduced to this width: what a grid cell shows
INTERVAL_S = 60.0  # people per minute, as detect.py's default


@dataclass
class CameraView:
    name: str
    image: np.ndarray | None = None  # RGB, reduced
    tally: Tally | None = None  # the camera's people so far
    faces: dict[str, int] | None = None  # in the newest frame
    problem: str | None = None  # why the camera shows nothing new, if it is failing
    frames: int = 0
    updated: float = 0.0  # time.monotonic() of the newest frame


class _LatestSink(BaseSink):
    """Keeps each camera's newest annotated frame and tally, for any number of readers."""

    def __init__(self, views: dict[str, CameraView], lock: threading.Lock):
        self.views, self.lock = views, lock

    def write(self, result: FrameResult) -> None:
        image = result.annotated
        if image.shape[1] > VIEW_WIDTH:
            image = cv2.resize(
                image, (VIEW_WIDTH, round(image.shape[0] * VIEW_WIDTH / image.shape[1])), interpolation=cv2.INTER_AREA
            )
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        tally = result.people.tally() if result.people is not None else None
        with self.lock:
            view = self.views[result.frame.source]
            view.image, view.tally, view.faces, view.problem = rgb, tally, result.counts, None
            view.frames += 1
            view.updated = time.monotonic()

    def skip(self, frame: Frame) -> None:
        with self.lock:
            self.views[frame.source].problem = frame.error


class CameraWall:
    def __init__(
        self,
        streams: str | Path,
        detector: Detector,
        conf: float = PredictOptions.conf,
        iou: float = PredictOptions.iou,
        sinks: Sequence[Sink] = (),
    ):
        """Every source of `streams`, analysed with `detector` once `start` is called; `sinks` get the
        results too (the app's EventSink, facemask.app.recording)."""
        self.streams, self.sinks = str(streams), list(sinks)
        self.items = read_streams_file(streams)
        self.detector, self.options = detector, PredictOptions(conf=conf, iou=iou)
        self.lock = threading.Lock()
        self.views = {item: CameraView(name) for item, name in zip(self.items, source_names(self.items), strict=True)}
        self._source: MultiSource | None = None
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> CameraWall:
        self._source = MultiSource(self.items)

        def people(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
            return ComplianceCounter(None, "", names, frame.fps, interval_s=INTERVAL_S, source=frame.source)

        pipeline = Pipeline(self.detector, self.options, Annotator(self.detector.names), people, concurrent=True)
        self._thread = threading.Thread(target=self._run, args=(pipeline,), name="camera-wall", daemon=True)
        self._thread.start()
        return self

    def _run(self, pipeline: Pipeline) -> None:
        try:
            pipeline.run(self._source, [_LatestSink(self.views, self.lock), *self.sinks])
        except Exception as e:  # shown in the tab: the app itself goes on
            self.error = f"the cameras stopped: {type(e).__name__}: {e}"

    def stop(self) -> None:
        if self._source is not None:
            self._source.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)

    @property
    def sources(self) -> dict[str, str]:
        """Each source as given, with the name the tab shows it by."""
        return {item: view.name for item, view in self.views.items()}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self) -> tuple[list[tuple[np.ndarray, str]], dict[str, Any]]:
        """Each camera's newest frame with a caption of its counts, and the totals over all cameras."""
        with self.lock:
            views = [CameraView(**vars(v)) for v in self.views.values()]
        cells = [(v.image if v.image is not None else _placeholder(v), caption(v)) for v in views]
        return cells, totals(views, self.running, self.error)


def camera_wall(streams: str, model: str | None, sinks: Sequence[Sink] = ()) -> CameraWall:
    """The Cameras tab's wall over `streams`, analysed with one of weights/' models, started; a ServeError in
    words for a .streams file that cannot be read or a model that cannot be loaded."""
    if model is None:
        raise ServeError("--cameras needs a model in weights/")
    if model not in available_models():
        raise ServeError(f"--weights {model} is not a model in weights/: one of {', '.join(available_models())}")
    try:
        return CameraWall(streams, detector_for(model), sinks=sinks).start()
    except (SourceError, UserError) as e:
        raise ServeError(f"--cameras {shown(streams)}: {e}") from None


def caption(view: CameraView) -> str:
    """'door: 5 people, 3 masked (60%), 2 unmasked', or what is wrong with the camera."""
    if view.problem:
        return f"{view.name}: {view.problem}"
    if view.tally is None:
        return f"{view.name}: waiting for the first frame"
    t = view.tally
    rate = "" if t.rate is None else f" ({t.percent})"
    return f"{view.name}: {t.people_text}, {t.masked} masked{rate}, {t.unmasked} unmasked"


def totals(views: list[CameraView], running: bool, error: str | None) -> dict[str, Any]:
    """People over every camera, and each camera's own line."""
    people = sum((v.tally for v in views if v.tally is not None), Tally())
    cameras = {v.name: {"frames": v.frames, **(v.tally.row() if v.tally else {}), "problem": v.problem} for v in views}
    return {**people.row(), "cameras": cameras, "running": running, **({"error": error} if error else {})}


def _placeholder(view: CameraView) -> np.ndarray:
    """A grey frame with the camera's name, until it sends one."""
    image = np.full((360, VIEW_WIDTH, 3), 60, np.uint8)
    cv2.putText(image, shown(view.name), (20, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (220, 220, 220), 2, cv2.LINE_AA)
    return image
