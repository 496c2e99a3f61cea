"""Frames per second of detect.py with and without --track on the same video: a benchmark, not a test.

Both runs save the annotated video (what a user gets), on the CPU, after a warm-up run. The process's
resident memory is sampled through each run and printed at its start, middle and end: on a long
video it should stay flat, since frames are read, detected and written one at a time.

Usage:
    python benchmarks/track_throughput.py --source clip.mp4
    python benchmarks/track_throughput.py            # a 10 s clip panned over the bundled examples
    python benchmarks/track_throughput.py --photos crowd_photos/ --seconds 30 --save-clip crowd.mp4
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psutil

import detect


def photo_clip(folder: Path, path: Path, seconds: int = 10, fps: int = 25, size: tuple[int, int] = (960, 540)) -> Path:
    """A video for people who have none: a slow pan across each photo of `folder`, so faces move
    as in real footage."""
    photos = [cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))]
    if not photos:
        raise SystemExit(f"no .jpg or .png photos in {folder}")
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    frames = seconds * fps
    for i in range(frames):
        photo = photos[i * len(photos) // frames]
        scale = max(size[0] / photo.shape[1], size[1] / photo.shape[0]) * 1.2
        big = cv2.resize(photo, None, fx=scale, fy=scale)
        t = (i % (frames // len(photos))) / (frames // len(photos))
        x = int(t * (big.shape[1] - size[0]))
        out.write(np.ascontiguousarray(big[: size[1], x : x + size[0]]))
    out.release()
    return path


def fps(source: Path, weights: Path, project: Path, **kw) -> tuple[float, int, list[float]]:
    """Frames/s of one detect.py run, its frame count, and its RSS (MiB) sampled every 0.2 s."""
    process, samples, done = psutil.Process(), [], threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, help="a video (default: one made from --photos)")
    p.add_argument("--photos", type=Path, default=ROOT / "examples", help="photos to pan across without --source")
    p.add_argument("--seconds", type=int, default=10, help="length of the clip made from --photos")
    p.add_argument("--save-clip", type=Path, help="keep the clip made from --photos here")
    p.add_argument("--weights", type=Path, default=ROOT / "weights" / "face_masks.pt")
    p.add_argument("--imgsz", type=int, default=640)
    opt = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = opt.source or photo_clip(opt.photos, opt.save_clip or Path(tmp) / "photos.mp4", opt.seconds)
        fps(source, opt.weights, Path(tmp) / "warmup", imgsz=opt.imgsz, vid_stride=10)
        plain, n, plain_rss = fps(source, opt.weights, Path(tmp) / "plain", imgsz=opt.imgsz)
        tracked, _, tracked_rss = fps(source, opt.weights, Path(tmp) / "track", imgsz=opt.imgsz, track=True)
    print(f"\n{source} ({n} frames, {opt.imgsz} px, CPU)")
    print(f"detection           {plain:6.1f} frames/s{rss(plain_rss)}")
    print(f"detection + --track {tracked:6.1f} frames/s  ({tracked / plain:.0%} of plain){rss(tracked_rss)}")


if __name__ == "__main__":
    main()
