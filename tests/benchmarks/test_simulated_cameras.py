"""benchmarks/simulated_cameras.py, the event benchmark's cameras (its run end to end is in
test_event_store.py): the colour detector and the tracker count the people who crossed the scenes, with
their masks, so the benchmark's events stand for a known crowd."""

from __future__ import annotations

from benchmarks.simulated_cameras import ColourDetector, Walker, camera_frames, people_factory, walkers
from facemask.inference.pipeline import Pipeline

SECONDS, FPS = 12, 10


def test_each_camera_counts_the_people_who_crossed_it() -> None:
    frames = list(camera_frames(2, SECONDS, FPS))
    assert [f.source for f in frames[:4]] == ["cam1", "cam2", "cam1", "cam2"] and len(frames) == 2 * SECONDS * FPS
    pipeline = Pipeline(ColourDetector(), people=people_factory(None, 10.0), concurrent=True)
    summaries = pipeline.run(camera_frames(2, SECONDS, FPS))
    for camera in range(2):
        crowd = [w for lane in walkers(camera, SECONDS * FPS, FPS) for w in lane]
        crossed = [w for w in crowd if w.enters + w.frames <= SECONDS * FPS]  # the rest may be cut by the end
        people = summaries[f"cam{camera + 1}"]
        assert len(crossed) <= people["people"] <= len(crowd) and len(crossed) >= 5
        assert masked(crossed) <= people["masked"] <= masked(crowd)


def test_the_unmasked_share_sets_who_walks_in() -> None:
    crowd = [w for lane in walkers(0, 60 * FPS, FPS, unmasked=lambda t: 0.0 if t < 30 else 1.0) for w in lane]
    assert all(w.masked == (w.enters < 30 * FPS) for w in crowd)


def masked(people: list[Walker]) -> int:
    return sum(w.masked for w in people)
