"""Frames per second of detect.py with and without --track on the same video: a benchmark, not a test.

Both runs save the annotated video (what a user gets), on the CPU, after a warm-up run. The process's
resident memory is sampled through each run and printed at its start, middle and end: on a long
video it should stay flat, since frames are read, detected and written one at a time.

Usage:
    python -m benchmarks.track_throughput --source clip.mp4
    python -m benchmarks.track_throughput            # a 10 s clip panned over the bundled examples
    python -m benchmarks.track_throughput --photos crowd_photos/ --seconds 30 --save-clip crowd.mp4
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

import detect
from benchmarks import defaults
from benchmarks.clips import photo_clip
from facemask.cli import image_size, positive_int, run_or_fail
from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR

SAMPLE_EVERY_S = 0.2  # RSS sampling period


def fps(source: Path, weights: Path, project: Path, **kw) -> tuple[float, int, list[float]]:
    """Frames/s of one detect.py run, its frame count, and its RSS (MiB) sampled every 0.2 s."""
    process, samples, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY_S):
            samples.append(process.memory_info().rss / 2**20)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    summary = detect.run(weights=weights, source=source, project=project, device="cpu", **kw)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return summary.frames / elapsed, summary.frames, samples


def rss(samples: list[float]) -> str:
    if len(samples) < 3:
        return ""
    return f"  RSS MiB start {samples[0]:.0f}, middle {samples[len(samples) // 2]:.0f}, end {samples[-1]:.0f}"


def run(
    source: Path | None = None,
    photos: Path = EXAMPLES_DIR,
    seconds: int = 10,
    save_clip: Path | None = None,
    weights: Path = DEFAULT_WEIGHTS,
    imgsz: int = 640,
    project: Path | None = None,
) -> dict[str, Any]:
    """Time detect.run on `source` without and with --track (after a warm-up run) and print both.

    source: a video (default: a `seconds` long pan across `photos`, kept at `save_clip` if given)
    weights, imgsz: the detector's
    project: where the runs' annotated videos and people files go (default: a temporary folder, deleted)
    Returns frames, plain_fps, tracked_fps and the RSS samples (MiB) of each run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(project or tmp)
        source = source or photo_clip(photos, save_clip or Path(tmp) / "photos.mp4", seconds)
        fps(source, weights, out / "warmup", imgsz=imgsz, vid_stride=10)
        plain, n, plain_rss = fps(source, weights, out / "plain", imgsz=imgsz)
        tracked, _, tracked_rss = fps(source, weights, out / "track", imgsz=imgsz, track=True)
    if project is None:
        print("(the runs' folders above were temporary and are deleted: --project DIR keeps them)")
    print(f"\n{source} ({n} frames, {imgsz} px, CPU)")
    print(f"detection           {plain:6.1f} frames/s{rss(plain_rss)}")
    print(f"detection + --track {tracked:6.1f} frames/s  ({tracked / plain:.0%} of plain){rss(tracked_rss)}")
    return {"frames": n, "plain_fps": plain, "tracked_fps": tracked, "plain_rss": plain_rss, "tracked_rss": tracked_rss}


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, help="a video (default: one made from --photos)")
    p.add_argument("--photos", type=Path, help="photos to pan across without --source")
    p.add_argument("--seconds", type=positive_int(), help="length of the clip made from --photos")
    p.add_argument("--save-clip", type=Path, help="keep the clip made from --photos here")
    p.add_argument("--weights", type=Path)
    p.add_argument("--imgsz", type=image_size)
    p.add_argument("--project", type=Path, help="keep the runs' outputs here (default: deleted)")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.track_throughput", run, opt)


if __name__ == "__main__":
    main(parse_opt())
