"""Cameras without cameras, for the event benchmark and tests: each a small synthetic scene of people
walking across it in lanes (a square face, green when masked, red when not), read by a colour detector
standing in for the model. Tracking, counting, people and events then run as in a real multi-camera
run, at little CPU cost, with a known number of people and a masked share that can change over time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from facemask.inference.detector import Prediction
from facemask.inference.media import Frame
from facemask.inference.people_files import RowWriter
from facemask.inference.pipeline import PeopleFactory
from facemask.inference.tracking import ComplianceCounter

W, H, FACE, LANES = 192, 144, 20, 5
NAMES = {0: "Mask", 1: "No Mask"}
COLOURS = {0: (0, 200, 0), 1: (0, 0, 220)}  # BGR: green masked, red unmasked
Share = float | Callable[[float], float]  # the unmasked share, or it as a function of stream seconds


@dataclass
class Walker:
    """One person crossing one lane, left to right."""

    lane: int
    enters: int  # frame
    frames: int  # how long the crossing takes
    masked: bool

    def box(self, i: int) -> tuple[int, int] | None:
        """Top-left corner of the face in frame i, if the person is in view then."""
        if not self.enters <= i < self.enters + self.frames:
            return None
        x = int((i - self.enters) / self.frames * (W - FACE))
        return x, self.lane * (H // LANES) + (H // LANES - FACE) // 2


def walkers(camera: int, frames: int, fps: float, unmasked: Share = 0.3, seed: int = 0) -> list[list[Walker]]:
    """Per lane, the people crossing it one after another (3-6 s each, 0.5-1.5 s apart)."""
    rng = np.random.default_rng([seed, camera])
    lanes = []
    for lane in range(LANES):
        people, t = [], int(rng.integers(0, int(fps)))
        while t < frames:
            share = unmasked(t / fps) if callable(unmasked) else unmasked
            people.append(Walker(lane, t, int(rng.uniform(3.0, 6.0) * fps), bool(rng.random() >= share)))
            t = people[-1].enters + people[-1].frames + int(rng.uniform(0.5, 1.5) * fps)
        lanes.append(people)
    return lanes


def scene(lanes: list[list[Walker]], i: int, at: list[int]) -> np.ndarray:
    """Frame i of a camera; `at` is each lane's current walker (advanced here, frames come in order)."""
    image = np.full((H, W, 3), 90, np.uint8)
    for lane, people in enumerate(lanes):
        while at[lane] < len(people) and people[at[lane]].enters + people[at[lane]].frames <= i:
            at[lane] += 1
        if at[lane] < len(people) and (corner := people[at[lane]].box(i)) is not None:
            x, y = corner
            image[y : y + FACE, x : x + FACE] = COLOURS[0 if people[at[lane]].masked else 1]
    return image


def camera_frames(
    cameras: int, seconds: float, fps: float = 25.0, unmasked: Share = 0.3, realtime: bool = False, seed: int = 0
) -> Iterator[Frame]:
    """Frames of `cameras` cameras (sources cam1, cam2, ...) interleaved, as a .streams run reads them; with
    `realtime`, at `fps` on the wall clock."""
    frames = int(seconds * fps)
    scenes = [walkers(c, frames, fps, unmasked, seed) for c in range(cameras)]
    cursors = [[0] * LANES for _ in range(cameras)]
    start = time.monotonic()
    for i in range(frames):
        if realtime and (wait := start + i / fps - time.monotonic()) > 0:
            time.sleep(wait)
        for c in range(cameras):
            yield Frame(f"cam{c + 1}", f"cam{c + 1}", scene(scenes[c], i, cursors[c]), i, is_video=True, fps=fps)


class ColourDetector:
    """Boxes around the green (Mask) and red (No Mask) faces: the model's stand-in."""

    names = NAMES

    def __call__(self, image: np.ndarray, options: object = None) -> Prediction:
        start = time.perf_counter()
        boxes, classes = [], []
        for cls, colour in COLOURS.items():
            n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.inRange(image, colour, colour))
            boxes += [[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:n]]
            classes += [cls] * (n - 1)
        detections = (
            sv.Detections.empty()
            if not boxes
            else sv.Detections(
                xyxy=np.array(boxes, float), class_id=np.array(classes), confidence=np.full(len(boxes), 0.9)
            )
        )
        return Prediction(detections, {"inference": (time.perf_counter() - start) * 1000})


def people_factory(
    save_dir: Path, interval_s: float, people_csv: RowWriter | None = None, min_track_frames: int = 5
) -> PeopleFactory:
    """Each camera's people counter, as detect.py --track makes them (files in `save_dir`)."""

    def make(frame: Frame, names: dict[int, str]) -> ComplianceCounter:
        return ComplianceCounter(
            save_dir,
            frame.name,
            names,
            frame.fps,
            frame.stride,
            min_track_frames,
            interval_s,
            source=frame.source,
            people_csv=people_csv,
        )

    return make
