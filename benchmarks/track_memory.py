"""Resident memory and time per frame of detect.py --track over a long stream: a benchmark, not a test.

A camera may run for days, so neither may grow with the stream's length. The stream is a video of
`--minutes` of stream time panned across crowd photos, `--photo-seconds` each (a new set of faces with
every photo: people come and go all the time), run through detect.run with --track on the CPU, saving
the annotated video as a user would. Every `--sample-seconds` (30) of stream time it prints the
process's RSS, the time per frame (the whole pipeline, and the people counter alone), the people held
in memory and the people counted so far; at the end, RSS at minute 2 (`--baseline-seconds`) and at the
last sample and their difference (target: under 30 MB).

Usage:
    python -m benchmarks.track_memory                                  # 10 min at 25 fps (15,000 frames)
    nice -n 10 python -m benchmarks.track_memory --fps 5 --imgsz 320   # the same 10 min on a slow CPU
    python -m benchmarks.track_memory --minutes 1 --fps 5              # a quick look
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import psutil
import supervision as sv
from tqdm import tqdm

import detect
from benchmarks import CROWD_PHOTOS, defaults
from benchmarks.clips import long_clip
from facemask.cli import image_size, positive_float, positive_int, run_or_fail
from facemask.inference.media import Frame
from facemask.inference.tracking import ComplianceCounter
from facemask.paths import DEFAULT_WEIGHTS

GROWTH_MB = 30  # the target: RSS may grow less than this from the baseline to the end


@dataclass
class Sample:
    stream_s: float
    rss_mb: float
    frame_ms: float  # wall time per frame since the last sample: read, detect, track, draw, write
    counter_ms: float  # of which in the people counter (tracker, counting, tally)
    held: int  # people in memory
    counted: int  # people settled and counted so far


@dataclass
class Sampling:
    """A sample every `every_s` seconds of stream time, into `samples` (one counter per video; there is one)."""

    every_s: float
    samples: list[Sample] = field(default_factory=list)


class SampledCounter(ComplianceCounter):
    """detect.run's people counter, timed, sampling the process every `sampling.every_s` of stream time."""

    def __init__(self, *args, sampling: Sampling, **kwargs):
        super().__init__(*args, **kwargs)
        self._sampling, self._process, self._next_s, self._counter_s = sampling, psutil.Process(), sampling.every_s, 0.0
        self._wall, self._frames_at = time.perf_counter(), 0

    def update(self, frame: Frame, detections: sv.Detections) -> sv.Detections:
        start = time.perf_counter()
        tracked = super().update(frame, detections)
        self._counter_s += time.perf_counter() - start
        if (frame.index + frame.stride) / self.fps >= self._next_s - 1e-9:  # this frame completes the span
            self._sample()
            self._next_s += self._sampling.every_s
        return tracked

    def draw(self, image: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = super().draw(image)
        self._counter_s += time.perf_counter() - start
        return out

    def _sample(self) -> None:
        now, frames = time.perf_counter(), self.frames - self._frames_at
        sample = Sample(
            self._next_s,
            self._process.memory_info().rss / 1e6,
            1000 * (now - self._wall) / frames,
            1000 * self._counter_s / frames,
            len(self.book),
            self.totals.people,
        )
        self._sampling.samples.append(sample)
        tqdm.write(
            f"{clock(sample.stream_s):>6} {sample.rss_mb:9.1f} {sample.frame_ms:9.1f} "
            f"{sample.counter_ms:10.2f} {sample.held:6d} {sample.counted:8d}"
        )
        self._wall, self._frames_at, self._counter_s = now, self.frames, 0.0


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def run(
    minutes: float = 10.0,
    fps: int = 25,
    imgsz: int = 640,
    weights: Path = DEFAULT_WEIGHTS,
    photos: Path = CROWD_PHOTOS,
    photo_seconds: float = 4.0,
    sample_seconds: float = 30.0,
    baseline_seconds: float = 120.0,
) -> dict[str, Any]:
    """Run detect.py --track over a stream made from `photos` and sample it.

    minutes, fps: the stream's length (stream time) and frame rate; photo_seconds: stream time on each photo
    imgsz, weights: the detector's; sample_seconds: stream time between samples
    baseline_seconds: the sample the growth is measured from (minute 2: after the start-up allocations)
    Returns samples, wall_s, and baseline, last and grew_mb (None when the stream is too short for a baseline)."""
    seconds = round(minutes * 60)
    sampling = Sampling(sample_seconds)
    with tempfile.TemporaryDirectory() as tmp:
        source = long_clip(photos, Path(tmp) / "stream.mp4", seconds, fps, photo_seconds)
        print(
            f"{source}: {seconds} s at {fps} fps ({seconds * fps} frames), 640x360, a photo every "
            f"{photo_seconds:g} s; {imgsz} px, CPU"
        )
        print(f"{'stream':>6} {'RSS MB':>9} {'ms/frame':>9} {'counter ms':>10} {'held':>6} {'counted':>8}")
        counter = functools.partial(SampledCounter, sampling=sampling)
        start = time.perf_counter()
        with mock.patch.object(detect, "ComplianceCounter", counter):  # detect.run makes its counter from this name
            detect.run(
                weights=weights, source=source, project=Path(tmp) / "runs", device="cpu", imgsz=imgsz, track=True
            )
        wall = time.perf_counter() - start
    samples = sampling.samples
    baseline = next((s for s in samples if s.stream_s >= baseline_seconds - 1e-9), None)
    last = samples[-1] if samples else None
    grew = None if baseline is None or last is baseline else last.rss_mb - baseline.rss_mb
    result = {
        "samples": samples,
        "wall_s": wall,
        "seconds": seconds,
        "sample_s": sample_seconds,
        "baseline": baseline,
        "last": last,
        "grew_mb": grew,
    }
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    baseline, last, grew = result["baseline"], result["last"], result["grew_mb"]
    print(f"\nwall time {result['wall_s'] / 60:.1f} min for {clock(result['seconds'])} of stream")
    if grew is None:
        print("too short for a baseline: use --minutes 3 or more (or a shorter --baseline-seconds)")
        return
    print(
        f"RSS at {clock(baseline.stream_s)} {baseline.rss_mb:.1f} MB, at {clock(last.stream_s)} {last.rss_mb:.1f} "
        f"MB: {grew:+.1f} MB ({'within' if grew < GROWTH_MB else 'over'} the {GROWTH_MB} MB target)"
    )
    for name, s in (("early", baseline), ("late", last)):
        print(
            f"{name:5} ms/frame over the {result['sample_s']:g} s to {clock(s.stream_s)}: {s.frame_ms:.1f}, "
            f"in the counter {s.counter_ms:.2f}"
        )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=positive_float(), help="stream time")
    p.add_argument("--fps", type=positive_int(), help="frame rate of the stream")
    p.add_argument("--imgsz", type=image_size)
    p.add_argument("--weights", type=Path)
    p.add_argument("--photos", type=Path, help="photos the stream pans across")
    p.add_argument("--photo-seconds", type=positive_float(), help="stream time on each photo")
    p.add_argument("--sample-seconds", type=positive_float(), help="stream time between samples")
    p.add_argument("--baseline-seconds", type=positive_float(), help="the sample growth is taken from")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.track_memory", run, opt)


if __name__ == "__main__":
    main(parse_opt())
