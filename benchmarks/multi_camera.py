"""Frames per second per camera of `detect.py --source cams.streams --track` with 1, 2 and 4 cameras: a
benchmark, not a test.

Each camera is a 640x480, 25 fps clip panned across crowd photos (a new photo every 4 s; each camera
gets photos of its own), written to a temporary folder. Every run is detect.run(source=cams.streams,
track=True, nosave=True) on the CPU, as a user would start it (people.csv, summary.json and
compliance.png are written; annotated videos only with --save). Model loading is not timed: the clock
starts when every camera has had its first frame processed and stops at the last frame processed.
Two views:

- files: the cameras are video files, so every frame is processed (a file waits its turn). fps per
  camera = frames processed / wall time / cameras.
- live: the cameras are MJPEG streams over HTTP (benchmarks/mjpeg_cameras.py: served by a thread of
  this process at 25 fps on the wall clock, looping the clip, as an IP camera would: it never waits
  for its viewer). The reader keeps only each camera's newest frame, so what the detector cannot keep
  up with is dropped. Each run lasts --live-seconds and is stopped as a user stops one (the
  KeyboardInterrupt that Ctrl+C raises, raised here by the timing console). dropped = 1 - frames
  processed / frames the cameras sent.

Each configuration runs --repeat times, taken in turn, and the table shows the median run. With each
run goes the share of the machine's CPU time that other processes took meanwhile: on a shared
machine the figures move with it.

Usage:
    python -m benchmarks.multi_camera                                   # .pt and int8 OpenVINO, both views
    python -m benchmarks.multi_camera --weights weights/face_masks.pt --views live --sources 1 2
    python -m benchmarks.multi_camera --photos crowd_photos/ --seconds 30 --save
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks import CROWD_PHOTOS, defaults
from benchmarks.camera_timing import Row, measure, table
from benchmarks.clips import camera_clips
from benchmarks.mjpeg_cameras import Cameras, jpegs
from facemask.cli import image_size, positive_float, positive_int, run_or_fail
from facemask.paths import DEFAULT_WEIGHTS, WEIGHTS_DIR

WEIGHTS = [DEFAULT_WEIGHTS, WEIGHTS_DIR / "face_masks_int8_openvino_model"]
SIZE = (640, 480)
PHOTO_SECONDS = 4
VIEWS = ("files", "live")
LEGEND = (
    "fps per camera: frames processed per camera per second (range: slowest and fastest run); ms per frame: wall "
    "time per frame processed, all cameras together; detector ms: pre-process, inference and post-process per "
    "frame; dropped: share of the frames the live cameras sent that were never processed; other processes' CPU: "
    "share of the machine's CPU time used by other processes"
)


def run(
    weights: list[Path] | None = None,
    sources: Sequence[int] = (1, 2, 4),
    views: Sequence[str] = VIEWS,
    repeat: int = 3,
    photos: Path = CROWD_PHOTOS,
    seconds: int = 20,
    fps: int = 25,
    live_seconds: float = 20.0,
    imgsz: int | None = None,
    save: bool = False,
    keep: Path | None = None,
) -> list[list[Row]]:
    """Time every (cameras, weights, view) configuration `repeat` times and print the table of medians.

    weights: models to time (default: the shipped .pt and int8 OpenVINO models that exist)
    sources: cameras per run; views: 'files' (every frame) and/or 'live' (MJPEG streams, frames dropped)
    photos: folder of photos the clips pan across; seconds, fps: each camera's clip
    live_seconds: timed length of each live run; imgsz: detector input (default: the model's own)
    save: save annotated videos too (default: --nosave); keep: write clips and runs here, not to a temporary folder
    Returns the runs of each configuration, in the table's order."""
    weights = weights or [w for w in WEIGHTS if w.exists()]
    configs = [(n, w, v) for n in sorted(sources) for w in weights for v in views]
    cpus, load = os.cpu_count(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cameras = max(sources)
        print(f"{cameras} camera clips: {seconds} s, {SIZE[0]}x{SIZE[1]} at {fps} fps, from {photos}")
        clips = camera_clips(photos, folder, cameras, seconds, fps, SIZE, PHOTO_SECONDS)
        server = Cameras([jpegs(c) for c in clips], fps) if "live" in views else None
        print(
            f"CPU: {cpus} cores, torch threads {torch.get_num_threads()}; load average "
            f"{', '.join(f'{x:.1f}' for x in load)} (1, 5, 15 min)"
        )
        try:
            runs = _runs(configs, repeat, clips, server, folder, save, imgsz, live_seconds)
        finally:
            if server is not None:
                server.close()
    print(
        f"\n--track, {'saving annotated videos' if save else '--nosave'}, CPU ({cpus} cores); load average "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; median of {repeat} runs"
    )
    print(table(runs))
    print(LEGEND)
    return runs


def _runs(
    configs: list[tuple],
    repeat: int,
    clips: list[Path],
    server: Cameras | None,
    folder: Path,
    save: bool,
    imgsz: int | None,
    live_seconds: float,
) -> list[list[Row]]:
    """Each configuration `repeat` times, taken in turn, a line per run."""
    runs: dict[tuple, list[Row]] = {c: [] for c in configs}
    for i in range(repeat):
        for n, weights, view in configs:
            items = [str(c) for c in clips[:n]] if view == "files" else [server.url(c) for c in range(n)]
            row = measure(view, weights, items, folder, save, imgsz, live_seconds, server)
            runs[n, weights, view].append(row)
            print(f"run {i + 1}/{repeat} {row.line()}", flush=True)
    return list(runs.values())


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, nargs="+", help="default: the shipped .pt and int8 OpenVINO models")
    p.add_argument("--sources", type=positive_int(), nargs="+", help="cameras per run")
    p.add_argument("--views", nargs="+", choices=VIEWS)
    p.add_argument("--repeat", type=positive_int(), help="runs of each configuration (median shown)")
    p.add_argument("--photos", type=Path, help="photos the camera clips pan across")
    p.add_argument("--seconds", type=positive_int(), help="length of each camera's clip")
    p.add_argument("--fps", type=positive_int(), help="frame rate of the cameras")
    p.add_argument("--live-seconds", type=positive_float(), help="timed length of each live run")
    p.add_argument("--imgsz", type=image_size, help="default: the model's own (416 for the shipped model)")
    p.add_argument("--save", action="store_true", help="save annotated videos too (default: --nosave)")
    p.add_argument("--keep", type=Path, help="write clips and runs here instead of a temporary folder")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.multi_camera", run, opt)


if __name__ == "__main__":
    main(parse_opt())
