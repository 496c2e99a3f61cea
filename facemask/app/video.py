"""The Video tab's job: an uploaded video through the request's pipeline, within the app's limits (at most
MAX_VIDEO_FRAMES frames, each at most 4K), into an annotated WebM, faces per class over time, totals and
per-frame counts; with tracking, people counted once each."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2

from facemask.app.errors import UserError
from facemask.app.scratch import scratch_dir
from facemask.app.service import request_pipeline, summary
from facemask.app.uploads import check_pixels
from facemask.inference.counting import Tally
from facemask.inference.detector import PredictOptions
from facemask.inference.media import Frame, iter_video
from facemask.inference.pipeline import BaseSink, FrameResult, Sink
from facemask.inference.sources import VIDEO_SUFFIXES
from facemask.inference.tracking import DEFAULT_FPS, ComplianceCounter

MAX_VIDEO_PIXELS = 3840 * 2160  # per video frame (4K)
MAX_VIDEO_FRAMES = 1800  # frames analysed per video (a minute at 30 fps); longer videos are cut
VIDEO_BUCKET_S = 10.0  # compliance per 10 s of an uploaded video


class VideoSink(BaseSink):
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


def upload_source(path: str) -> str:
    """An uploaded video as a source: 'upload:clip.mp4'."""
    return f"upload:{Path(path).name}"


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
        check_pixels(frame.image.shape[1], frame.image.shape[0], MAX_VIDEO_PIXELS)
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


def _totals(records: list[dict], left_out: list[Frame]) -> dict[str, Any]:
    """Faces per class over the frames analysed, and a note when the video was cut."""
    totals: Counter[str] = Counter()
    for r in records:
        totals.update(r["counts"])  # update, not +: a class seen 0 times stays in the totals
    result = {"frames": len(records), **summary(dict(totals))}
    if left_out:
        result["note"] = cut_note(len(records), left_out[0])
    return result


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

    pipeline = request_pipeline(model, PredictOptions(conf=conf, iou=iou), blur, people=people if track else None)
    folder = scratch_dir()
    sink, left_out = VideoSink(folder / f"{Path(path).stem}_faces.webm", progress), []
    try:
        people_summaries = pipeline.run(_video_frames(path, left_out), [sink, *sinks])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    result = _totals(sink.records, left_out)
    if track:
        s = people_summaries.get(upload_source(path)) or Tally().row()
        result["people"] = {
            **{k: s[k] for k in ("people", "masked", "unmasked", "compliance_rate")},
            "people_list": people_rows,
        }
    return str(sink.out), sink.timeline, result, sink.records
