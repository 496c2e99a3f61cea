"""Timing one `detect.run` over several cameras, for the multi-camera benchmark: a console that notes when
each camera's frames are processed (and stops a live run as Ctrl+C does), what the run took, and the
table of runs."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import psutil

import detect
from benchmarks.mjpeg_cameras import Cameras
from facemask.errors import FacemaskError
from facemask.inference.console import ConsoleSink
from facemask.inference.pipeline import FrameResult

WAIT_S = 60.0  # give up when a camera has sent nothing this long after the first one


@dataclass
class Clock:
    """What the timed console saw of one run."""

    sources: int
    live_seconds: float | None = None  # stop the run this long after the clock starts (live sources)
    first: dict[str, float] = field(default_factory=dict)  # source -> time of its first processed frame
    frames: dict[str, int] = field(default_factory=dict)  # source -> frames processed after the clock started
    start: float | None = None  # every source has had a frame processed
    end: float | None = None  # the last frame processed
    sent_at_start: dict[int, int] = field(default_factory=dict)  # the cameras' counters when the clock started
    sent_at_end: dict[int, int] = field(default_factory=dict)  # and at the last frame processed
    stopped: bool = False  # the console stopped the run (as Ctrl+C does)


class TimedConsole(ConsoleSink):
    """detect.run's console, timing each source's frames on `clock` (and reading `cameras`' counters)."""

    def __init__(self, clock: Clock, cameras: Cameras | None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock, self.cameras = clock, cameras

    def write(self, result: FrameResult) -> None:
        super().write(result)
        clock, now, source = self.clock, time.perf_counter(), result.frame.source
        if clock.start is None:
            clock.first.setdefault(source, now)
            if len(clock.first) == clock.sources:  # the last camera is in: start counting from the next frame
                clock.start = clock.end = now
                clock.frames = dict.fromkeys(clock.first, 0)
                if self.cameras is not None:
                    clock.sent_at_start = dict(self.cameras.sent)
            elif now - min(clock.first.values()) > WAIT_S:
                clock.stopped = True
                raise KeyboardInterrupt  # a camera never came: stop (measure reports it)
            return
        clock.frames[source] += 1
        clock.end = now
        if self.cameras is not None:
            clock.sent_at_end = dict(self.cameras.sent)
        if clock.live_seconds is not None and now - clock.start >= clock.live_seconds:
            clock.stopped = True
            raise KeyboardInterrupt  # how a user stops a run on live cameras (detect.run saves what it saw)


@dataclass
class Row:
    view: str
    sources: int
    model: str
    seconds: float
    frames: dict[str, int]
    others: float  # share of the machine's CPU time that went to other processes during the run
    detector_ms: float  # mean pre-process + inference + post-process per frame (the detector's own timing)
    sent: int | None = None  # frames the cameras sent while the clock ran (live)

    @property
    def total_fps(self) -> float:
        return sum(self.frames.values()) / self.seconds

    @property
    def dropped(self) -> float | None:
        # max: the first frame counted may have been sent just before the clock started
        return None if not self.sent else max(0.0, 1 - sum(self.frames.values()) / self.sent)

    def line(self) -> str:
        per = [n / self.seconds for n in self.frames.values()]
        dropped = "" if self.dropped is None else f", {self.dropped:.0%} dropped"
        return (
            f"{self.view:5} {self.sources} x {self.model}: {self.total_fps / self.sources:.1f} fps/camera "
            f"(cameras {min(per):.1f}-{max(per):.1f}), {self.total_fps:.1f} in total, detector "
            f"{self.detector_ms:.0f} ms{dropped}; {sum(self.frames.values())} frames in {self.seconds:.1f} s; "
            f"other processes {self.others:.0%} of the CPU"
        )


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def own_seconds() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


def measure(
    view: str,
    weights: Path,
    items: list[str],
    folder: Path,
    save: bool,
    imgsz: int | None,
    live_seconds: float,
    cameras: Cameras | None,
) -> Row:
    """One detect.run over `items` as a .streams file, its output kept quiet."""
    streams = folder / f"{view}_{weights.stem}_{len(items)}.streams"
    streams.write_text("".join(f"{item}\n" for item in items))
    (folder / "runs").mkdir(exist_ok=True)
    project = Path(tempfile.mkdtemp(prefix=f"{streams.stem}_", dir=folder / "runs"))  # each run a folder of its own
    live = view == "live"
    clock = Clock(len(items), live_seconds if live else None)
    console = functools.partial(TimedConsole, clock, cameras if live else None)
    wall, busy, own = time.perf_counter(), busy_seconds(), own_seconds()
    with (
        mock.patch.object(detect, "ConsoleSink", console),  # detect.run makes its console from this name
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        try:
            detect.run(
                weights=weights,
                source=streams,
                imgsz=imgsz,
                device="cpu",
                nosave=not save,
                track=True,
                project=project,
                name="exp",
            )
        except KeyboardInterrupt:
            if not clock.stopped:
                raise  # the user's Ctrl+C, not the timing console's
    wall, busy, own = time.perf_counter() - wall, busy_seconds() - busy, own_seconds() - own
    if clock.start is None or clock.end <= clock.start:
        raise FacemaskError(f"{streams.name}: not every source gave frames (see {project})")
    sent = None
    if live:
        sent = sum(clock.sent_at_end.get(c, 0) - clock.sent_at_start.get(c, 0) for c in range(len(items)))
    others = max(0.0, busy - own) / (wall * (os.cpu_count() or 1))
    detector_ms = json.loads((project / "exp" / "summary.json").read_text())["ms_per_image"]  # what detect.py saved
    return Row(view, len(items), weights.name, clock.end - clock.start, clock.frames, others, detector_ms, sent)


def table(runs: list[list[Row]]) -> str:
    """One line per configuration: its median run (by total fps), and the range of fps/camera over the runs."""
    lines = [
        "| sources | model | view | fps per camera | range | total fps | ms per frame | detector ms | "
        "dropped | other processes' CPU |",
        "|" + " --- |" * 10,
    ]
    for rows in runs:
        by_fps = sorted(rows, key=lambda r: r.total_fps)
        r = by_fps[(len(by_fps) - 1) // 2]
        per = [x.total_fps / x.sources for x in by_fps]
        dropped = "" if r.dropped is None else f"{r.dropped:.0%}"
        lines.append(
            f"| {r.sources} | {r.model} | {r.view} | {r.total_fps / r.sources:.1f} | "
            f"{per[0]:.1f}-{per[-1]:.1f} | {r.total_fps:.1f} | {1000 / r.total_fps:.0f} | "
            f"{r.detector_ms:.0f} | {dropped} | {r.others:.0%} |"
        )
    return "\n".join(lines)
