"""Resident memory and time per frame of detect.py --track over a long stream: a benchmark, not a test.

A camera may run for days, so neither may grow with the stream's length. The stream is a video of
`--minutes` of stream time panned across crowd photos, `--photo-seconds` each (a new set of faces with
every photo: people come and go all the time), run through detect.run with --track on the CPU, saving
the annotated video as a user would. Every 30 s of stream time it prints the process's RSS, the time
per frame (the whole pipeline, and the people counter alone), the people held in memory and the people
counted so far; at the end, RSS at minute 2 and at the last minute and their difference (target: under
30 MB).

Usage:
    python benchmarks/track_memory.py                                  # 10 min at 25 fps (15,000 frames)
    nice -n 10 python benchmarks/track_memory.py --fps 5 --imgsz 320   # the same 10 min on a slow CPU
    python benchmarks/track_memory.py --minutes 1 --fps 5              # a quick look
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import itertools
import math
import tempfile
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import psutil
import supervision as sv
from tqdm import tqdm

import detect
from benchmarks.track_throughput import photo_clip
from facemask.inference.media import Frame
from facemask.inference.tracking import ComplianceCounter

SAMPLE_S = 30.0  # stream time between samples
PHOTOS = ROOT.parent / "shared" / "datasets" / "andrewmvd-face-mask-detection" / "images"  # crowds, 2-20 faces


@dataclass
class Sample:
    stream_s: float
    rss_mb: float
    frame_ms: float  # wall time per frame since the last sample: read, detect, track, draw, write
    counter_ms: float  # of which in the people counter (tracker, counting, tally)
    held: int  # people in memory
    counted: int  # people settled and counted so far


class SampledCounter(ComplianceCounter):
    """detect.run's people counter, timed, sampling the process every SAMPLE_S seconds of stream time."""

    samples: ClassVar[list[Sample]] = []  # the run's (one counter per video, and there is one video)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._process, self._next_s, self._counter_s = psutil.Process(), SAMPLE_S, 0.0
        self._wall, self._frames_at = time.perf_counter(), 0

    def update(self, frame: Frame, detections: sv.Detections) -> sv.Detections:
        start = time.perf_counter()
        tracked = super().update(frame, detections)
        self._counter_s += time.perf_counter() - start
        if (frame.index + frame.stride) / self.fps >= self._next_s - 1e-9:  # this frame completes the span
            self._sample()
            self._next_s += SAMPLE_S
        return tracked

    def draw(self, image: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = super().draw(image)
        self._counter_s += time.perf_counter() - start
        return out

    def _sample(self) -> None:
        now, frames = time.perf_counter(), self.frames - self._frames_at
        sample = Sample(self._next_s, self._process.memory_info().rss / 1e6, 1000 * (now - self._wall) / frames,
                        1000 * self._counter_s / frames, len(self.book), self.totals.people)  # fmt: skip
        self.samples.append(sample)
        tqdm.write(f"{clock(sample.stream_s):>6} {sample.rss_mb:9.1f} {sample.frame_ms:9.1f} "
                   f"{sample.counter_ms:10.2f} {sample.held:6d} {sample.counted:8d}")  # fmt: skip
        self._wall, self._frames_at, self._counter_s = now, self.frames, 0.0


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def stream(photos: Path, path: Path, seconds: int, fps: int, photo_seconds: float, folder: Path) -> Path:
    """The test video: `seconds` long, a pan across one photo every `photo_seconds` (photos reused in
    turn if there are too few), at 640x360."""
    found = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    if not found:
        raise SystemExit(f"no .jpg or .png photos in {photos}")
    for i, photo in enumerate(itertools.islice(itertools.cycle(found), math.ceil(seconds / photo_seconds))):
        (folder / f"{i:05d}{photo.suffix.lower()}").symlink_to(photo.resolve())
    return photo_clip(folder, path, seconds, fps, size=(640, 360))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="stream time")
    p.add_argument("--fps", type=int, default=25, help="frame rate of the stream")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--weights", type=Path, default=ROOT / "weights" / "face_masks.pt")
    p.add_argument("--photos", type=Path, default=PHOTOS if PHOTOS.is_dir() else ROOT / "examples")
    p.add_argument("--photo-seconds", type=float, default=4.0, help="stream time on each photo")
    opt = p.parse_args()
    seconds = round(opt.minutes * 60)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "photos").mkdir()
        source = stream(opt.photos, Path(tmp) / "stream.mp4", seconds, opt.fps, opt.photo_seconds, Path(tmp) / "photos")
        print(f"{source}: {seconds} s at {opt.fps} fps ({seconds * opt.fps} frames), 640x360, a photo every "
              f"{opt.photo_seconds:g} s; {opt.imgsz} px, CPU")  # fmt: skip
        print(f"{'stream':>6} {'RSS MB':>9} {'ms/frame':>9} {'counter ms':>10} {'held':>6} {'counted':>8}")
        detect.ComplianceCounter = SampledCounter  # detect.run makes its counter from this name
        start = time.perf_counter()
        detect.run(weights=opt.weights, source=source, project=Path(tmp) / "runs", device="cpu", imgsz=opt.imgsz,
                   track=True)  # fmt: skip
        wall = time.perf_counter() - start
    samples = {round(s.stream_s): s for s in SampledCounter.samples}
    early, late = samples.get(120), SampledCounter.samples[-1]
    print(f"\nwall time {wall / 60:.1f} min for {clock(seconds)} of stream")
    if early is None or late is early:
        print("too short for a minute-2 baseline: use --minutes 3 or more")
        return
    grew = late.rss_mb - early.rss_mb
    print(f"RSS at {clock(early.stream_s)} {early.rss_mb:.1f} MB, at {clock(late.stream_s)} {late.rss_mb:.1f} MB: "
          f"{grew:+.1f} MB ({'within' if grew < 30 else 'over'} the 30 MB target)")  # fmt: skip
    for name, s in (("early", early), ("late", late)):
        print(f"{name:5} ms/frame over the {SAMPLE_S:g} s to {clock(s.stream_s)}: {s.frame_ms:.1f}, "
              f"in the counter {s.counter_ms:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
