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
- live: the cameras are MJPEG streams over HTTP (http://127.0.0.1:PORT/camN.mjpg, served by a thread
  of this process at 25 fps on the wall clock, looping the clip, as an IP camera would: it never
  waits for its viewer). The reader keeps only each camera's newest frame, so what the detector cannot
  keep up with is dropped. Each run lasts --live-seconds and is stopped as a user stops one (the
  KeyboardInterrupt that Ctrl+C raises, raised here by the timing console). dropped = 1 - frames
  processed / frames the cameras sent.

Each configuration runs --repeat times, taken in turn, and the table shows the median run. With each
run goes the share of the machine's CPU time that other processes took meanwhile: on a shared
machine the figures move with it.

Usage:
    python benchmarks/multi_camera.py                                   # .pt and int8 OpenVINO, both views
    python benchmarks/multi_camera.py --weights weights/face_masks.pt --views live --sources 1 2
    python benchmarks/multi_camera.py --photos crowd_photos/ --seconds 30 --save
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import contextlib
import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import psutil
import torch

import detect
from benchmarks.track_throughput import photo_clip
from facemask.inference.console import ConsoleSink
from facemask.inference.pipeline import FrameResult

PHOTOS = ROOT.parent / "shared" / "datasets" / "andrewmvd-face-mask-detection" / "images"  # crowds, 2-20 faces
WEIGHTS = [ROOT / "weights" / "face_masks.pt", ROOT / "weights" / "face_masks_int8_openvino_model"]
SIZE = (640, 480)
PHOTO_SECONDS = 4
WAIT_S = 60.0  # give up when a camera has sent nothing this long after the first one


# --- the cameras -------------------------------------------------------------------------------------


def camera_clips(photos: Path, folder: Path, cameras: int, seconds: int, fps: int) -> list[Path]:
    """cam1.mp4 ... camN.mp4: each a pan across photos of its own (evenly spaced through `photos`)."""
    found = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    if not found:
        raise SystemExit(f"no .jpg or .png photos in {photos}")
    per_camera = max(1, seconds // PHOTO_SECONDS)
    step = max(1, len(found) // (cameras * per_camera))
    picked = found[::step]
    clips = []
    for c in range(cameras):
        own = folder / f"photos{c + 1}"
        own.mkdir()
        for i in range(per_camera):
            photo = picked[(c + i * cameras) % len(picked)]
            (own / f"{i:03d}{photo.suffix.lower()}").symlink_to(photo.resolve())
        clips.append(photo_clip(own, folder / f"cam{c + 1}.mp4", seconds, fps, size=SIZE))
    return clips


def jpegs(clip: Path, quality: int = 85) -> list[bytes]:
    """Every frame of `clip` as a JPEG, as an MJPEG camera sends it."""
    cap, out = cv2.VideoCapture(str(clip)), []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
    cap.release()
    return out


class Cameras:
    """MJPEG over HTTP at `fps` frames/s on the wall clock, looping each camera's clip. A viewer that reads
    too slowly misses frames (the camera skips ahead), as with a real IP camera. Counts what it sends."""

    def __init__(self, clips: list[list[bytes]], fps: int):
        self.clips, self.fps = clips, fps
        self.sent: dict[int, int] = {}  # camera -> frames sent, over all its connections
        self.stopped = threading.Event()
        cameras = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    camera = int(self.path.strip("/").removeprefix("cam").removesuffix(".mjpg")) - 1
                    frames = cameras.clips[camera]
                except (ValueError, IndexError):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                start, index = time.perf_counter(), 0
                try:
                    while not cameras.stopped.is_set():
                        jpeg = frames[index % len(frames)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%b\r\n"
                                         % (len(jpeg), jpeg))  # fmt: skip
                        cameras.sent[camera] = cameras.sent.get(camera, 0) + 1
                        now = time.perf_counter()
                        index = max(index + 1, int((now - start) * cameras.fps))  # late: skip ahead, as a camera does
                        time.sleep(max(0.0, start + index / cameras.fps - now))
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-cameras", daemon=True)
        self.thread.start()

    def url(self, camera: int) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cam{camera + 1}.mjpg"

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


# --- timing ------------------------------------------------------------------------------------------


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


class TimedConsole(ConsoleSink):
    """detect.run's console (patched in as detect.ConsoleSink), timing each source's frames."""

    clock: Clock
    cameras: Cameras | None = None

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
                raise KeyboardInterrupt  # a camera never came: stop (measure reports it)
            return
        clock.frames[source] += 1
        clock.end = now
        if self.cameras is not None:
            clock.sent_at_end = dict(self.cameras.sent)
        if clock.live_seconds is not None and now - clock.start >= clock.live_seconds:
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
        return (f"{self.view:5} {self.sources} x {self.model}: {self.total_fps / self.sources:.1f} fps/camera "
                f"(cameras {min(per):.1f}-{max(per):.1f}), {self.total_fps:.1f} in total, detector "
                f"{self.detector_ms:.0f} ms{dropped}; {sum(self.frames.values())} frames in {self.seconds:.1f} s; "
                f"other processes {self.others:.0%} of the CPU")  # fmt: skip


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def own_seconds() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


def measure(view: str, weights: Path, items: list[str], folder: Path, save: bool, imgsz: int | None,
            live_seconds: float, cameras: Cameras | None) -> Row:  # fmt: skip
    """One detect.run over `items` as a .streams file, its output kept quiet."""
    streams = folder / f"{view}_{weights.stem}_{len(items)}.streams"
    streams.write_text("".join(f"{item}\n" for item in items))
    clock = Clock(len(items), live_seconds if view == "live" else None)
    TimedConsole.clock, TimedConsole.cameras = clock, cameras if view == "live" else None
    wall, busy, own = time.perf_counter(), busy_seconds(), own_seconds()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        summary = detect.run(weights=weights, source=streams, imgsz=imgsz, device="cpu", nosave=not save,
                             track=True, project=folder / "runs", name=streams.stem)  # fmt: skip
    wall, busy, own = time.perf_counter() - wall, busy_seconds() - busy, own_seconds() - own
    if clock.start is None or clock.end <= clock.start:
        raise SystemExit(f"{streams.name}: not every source gave frames (see {folder / 'runs'})")
    sent = None
    if view == "live":
        sent = sum(clock.sent_at_end.get(c, 0) - clock.sent_at_start.get(c, 0) for c in range(len(items)))
    others = max(0.0, busy - own) / (wall * (os.cpu_count() or 1))
    detector_ms = summary.ms / max(1, summary.frames)
    return Row(view, len(items), weights.name, clock.end - clock.start, clock.frames, others, detector_ms, sent)


def table(runs: list[list[Row]]) -> str:
    """One line per configuration: its median run (by total fps), and the range of fps/camera over the runs."""
    lines = ["| sources | model | view | fps per camera | range | total fps | ms per frame | detector ms | "
             "dropped | other processes' CPU |", "|" + " --- |" * 10]  # fmt: skip
    for rows in runs:
        by_fps = sorted(rows, key=lambda r: r.total_fps)
        r = by_fps[(len(by_fps) - 1) // 2]
        per = [x.total_fps / x.sources for x in by_fps]
        dropped = "" if r.dropped is None else f"{r.dropped:.0%}"
        lines.append(f"| {r.sources} | {r.model} | {r.view} | {r.total_fps / r.sources:.1f} | "
                     f"{per[0]:.1f}-{per[-1]:.1f} | {r.total_fps:.1f} | {1000 / r.total_fps:.0f} | "
                     f"{r.detector_ms:.0f} | {dropped} | {r.others:.0%} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, nargs="+", default=[w for w in WEIGHTS if w.exists()])
    p.add_argument("--sources", type=int, nargs="+", default=[1, 2, 4], help="cameras per run")
    p.add_argument("--views", nargs="+", choices=["files", "live"], default=["files", "live"])
    p.add_argument("--repeat", type=int, default=3, help="runs of each configuration, taken in turn (median shown)")
    p.add_argument("--photos", type=Path, default=PHOTOS if PHOTOS.is_dir() else ROOT / "examples")
    p.add_argument("--seconds", type=int, default=20, help="length of each camera's clip")
    p.add_argument("--fps", type=int, default=25, help="frame rate of the cameras")
    p.add_argument("--live-seconds", type=float, default=20.0, help="timed length of each live run")
    p.add_argument("--imgsz", type=int, help="default: the model's own (416 for the shipped model)")
    p.add_argument("--save", action="store_true", help="save annotated videos too (default: --nosave)")
    p.add_argument("--keep", type=Path, help="write clips and runs here instead of a temporary folder")
    opt = p.parse_args()
    detect.ConsoleSink = TimedConsole  # detect.run makes its console from this name
    configs = [(n, w, v) for n in sorted(opt.sources) for w in opt.weights for v in opt.views]
    runs: dict[tuple, list[Row]] = {c: [] for c in configs}
    cpus, load = os.cpu_count(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = opt.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        cameras = max(opt.sources)
        print(f"{cameras} camera clips: {opt.seconds} s, {SIZE[0]}x{SIZE[1]} at {opt.fps} fps, from {opt.photos}")
        clips = camera_clips(opt.photos, folder, cameras, opt.seconds, opt.fps)
        server = Cameras([jpegs(c) for c in clips], opt.fps) if "live" in opt.views else None
        print(f"CPU: {cpus} cores, torch threads {torch.get_num_threads()}; load average "
              f"{', '.join(f'{x:.1f}' for x in load)} (1, 5, 15 min)")  # fmt: skip
        try:
            for i in range(opt.repeat):
                for n, weights, view in configs:
                    items = [str(c) for c in clips[:n]] if view == "files" else [server.url(c) for c in range(n)]
                    row = measure(view, weights, items, folder, opt.save, opt.imgsz, opt.live_seconds, server)
                    runs[n, weights, view].append(row)
                    print(f"run {i + 1}/{opt.repeat} {row.line()}", flush=True)
        finally:
            if server is not None:
                server.close()
    print(f"\n--track, {'saving annotated videos' if opt.save else '--nosave'}, CPU ({cpus} cores); load average "
          f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; median of {opt.repeat} runs")  # fmt: skip
    print(table(list(runs.values())))
    print("fps per camera: frames processed per camera per second (range: slowest and fastest run); ms per "
          "frame: wall time per frame processed, all cameras together; detector ms: pre-process, inference "
          "and post-process per frame; dropped: share of the frames the live cameras sent that were never "
          "processed; other processes' CPU: share of the machine's CPU time used by other processes")  # fmt: skip


if __name__ == "__main__":
    main()
