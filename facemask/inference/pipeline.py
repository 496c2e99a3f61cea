"""The one detection pipeline every front end drives: frames in, detections through the detector, the
tracker and counter, the annotator, and out to sinks.

    frames (media) -> Detector -> sv.Detections -> people (tracking) -> Annotator -> sinks

detect.py, each tab of the app, the benchmarks and the multi-camera view build a Pipeline and either
hand it a stream of frames (`run`, the only frame loop) or one frame at a time (`process`, for a web
request or a webcam frame). What differs between them is only their sinks: files and a console for
detect.py, a video file and a timeline for the app.

Tracking is per source: each video or stream gets its own people counter, made by the `people`
factory the front end passes (it decides where the counter's files go). A source's counter is closed
when its last frame has been seen: for files, one after another, when the next source starts; for
sources read side by side (`concurrent=True`), when the source says it has ended (a Frame with `ended`)
or at the end of the run. Closing a counter, and the end of a run, are held against Ctrl-C and SIGTERM
(facemask.inference.stopping): a stop then waits until the files are complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import supervision as sv

from facemask.inference.annotate import Annotator
from facemask.inference.counting import class_counts
from facemask.inference.detector import Detector, PredictOptions
from facemask.inference.media import Frame
from facemask.inference.stopping import held
from facemask.inference.tracking import ComplianceCounter

#: Makes the people counter of one source from its first frame, or a camera's first failure (an error Frame:
#: no image, fps None; the counter takes the rate of its first frame). Files go where the front end wants them.
PeopleFactory = Callable[[Frame, dict[int, str]], ComplianceCounter]


@dataclass
class FrameResult:
    """What the pipeline made of one frame: the currency every sink reads."""

    frame: Frame
    detections: sv.Detections  # with tracker_id when the source is tracked (-1: not in a track yet)
    counts: dict[str, int]  # faces per class in this frame, every class listed
    speed_ms: dict[str, float] = field(default_factory=dict)
    annotated: np.ndarray | None = None  # BGR, boxes (and the people tally) drawn; None when not asked for
    people: ComplianceCounter | None = None  # this frame's source's counter, when tracked


class Sink(Protocol):
    """Where results go. `skip` gets frames that could not be read; `follow` each people counter as it is
    made (before its first frame, or its camera's first failure); `source_done` a tracked source's people
    summary once its last frame is seen; `close` is called once, at the end, however the run ends."""

    def write(self, result: FrameResult) -> None: ...

    def skip(self, frame: Frame) -> None: ...

    def follow(self, source: str, people: ComplianceCounter) -> None: ...

    def source_done(self, source: str, people: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class BaseSink:
    """A sink that ignores what it does not need."""

    def write(self, result: FrameResult) -> None:
        pass

    def skip(self, frame: Frame) -> None:
        pass

    def follow(self, source: str, people: ComplianceCounter) -> None:
        pass

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


class Pipeline:
    def __init__(
        self,
        detector: Detector,
        options: PredictOptions | None = None,
        annotator: Annotator | None = None,
        people: PeopleFactory | None = None,
        concurrent: bool = False,
    ):
        """`options`: this pipeline's thresholds (a web request's own; default the detector's settings).
        `annotator`: draw results (None: no drawing, e.g. --nosave). `people`: track and count people
        in videos and streams. `concurrent`: sources arrive interleaved (several cameras), so none is
        closed before the end."""
        self.detector, self.options, self.annotator = detector, options, annotator
        self.people_factory, self.concurrent = people, concurrent
        self.people: dict[str, ComplianceCounter] = {}  # open counters, by source

    @property
    def names(self) -> dict[int, str]:
        return self.detector.names

    def process(self, frame: Frame, sinks: Sequence[Sink] = ()) -> FrameResult:
        """Detect, track (videos and streams) and draw one readable frame; `sinks` follow a new people counter."""
        prediction = self.detector(frame.image, self.options)
        detections = prediction.detections
        counts = class_counts(detections, self.names)
        people = self._people_of(frame, sinks) if frame.is_video and self.people_factory is not None else None
        if people is not None:
            detections = people.update(frame, detections)
        annotated = None
        if self.annotator is not None:
            annotated = self.annotator(frame.image, detections)
            if people is not None:
                people.draw(annotated)
        return FrameResult(frame, detections, counts, prediction.speed_ms, annotated, people)

    def run(self, frames: Iterable[Frame], sinks: Sequence[Sink] = ()) -> dict[str, dict[str, Any]]:
        """Every frame through `process` to every sink; unreadable frames to `skip`. Whatever ends the run
        (the last frame, Ctrl+C, an error), open people counters are closed and the sinks too. Returns the
        people summaries by source."""
        summaries: dict[str, dict[str, Any]] = {}
        try:
            for frame in frames:
                if frame.ended:  # a source read side by side has ended: its people are final now
                    if frame.source in self.people:
                        summaries[frame.source] = self._close(frame.source, sinks)
                    continue
                if frame.error:
                    self._source_down(frame, sinks)
                    continue
                if not self.concurrent:
                    for source in [s for s in self.people if s != frame.source]:
                        summaries[source] = self._close(source, sinks)
                result = self.process(frame, sinks)
                for sink in sinks:
                    sink.write(result)
        finally:
            with held():
                for source in list(self.people):
                    summaries[source] = self._close(source, sinks)
                for sink in sinks:
                    sink.close()
        return summaries

    def _people_of(self, frame: Frame, sinks: Sequence[Sink]) -> ComplianceCounter:
        if frame.source not in self.people:
            self.people[frame.source] = self.people_factory(frame, self.names)
            for sink in sinks:
                sink.follow(frame.source, self.people[frame.source])
        return self.people[frame.source]

    def _source_down(self, frame: Frame, sinks: Sequence[Sink]) -> None:
        """A frame that could not be read. A counted camera's outage is counted, from its first failure if it
        never sent a frame: a camera down all day has a day of intervals with no frames, as one down an hour."""
        if self.people_factory is not None and (frame.source in self.people or frame.live):
            self._people_of(frame, sinks).source_down(live=frame.live)
        for sink in sinks:
            sink.skip(frame)

    def _close(self, source: str, sinks: Sequence[Sink]) -> dict[str, Any]:
        with held():
            summary = self.people.pop(source).close()
            for sink in sinks:
                sink.source_done(source, summary)
        return summary
