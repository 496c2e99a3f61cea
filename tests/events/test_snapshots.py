"""Snapshots of unmasked people: the best view kept while a person is tracked, every face in it blurred
unless raw, none for a masked person; retention deletes old rows and their files, and nothing else."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from facemask.events.event import person_event
from facemask.events.options import EventOptions, event_sink
from facemask.events.retention import purge
from facemask.events.snapshots import SnapshotKeeper
from facemask.events.store import EventStore

NAMES = {0: "Mask", 1: "No Mask"}
FACE = (100, 60, 140, 100)  # the unmasked face (x1, y1, x2, y2); a masked one sits beside it


def frame(seed: int, brightness: int = 128) -> np.ndarray:
    """A flat grey frame whose two faces are random noise: sharp detail that a blur removes."""
    image = np.full((240, 320, 3), brightness, np.uint8)
    noise = np.random.default_rng(seed).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    image[60:100, 100:140] = noise
    image[60:100, 150:190] = noise
    return image


def faces(confidence: float, unmasked_class: int = 1) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([FACE, (150, 60, 190, 100)], float),
        class_id=np.array([unmasked_class, 0]),
        confidence=np.array([confidence, 0.9]),
        tracker_id=np.array([1, 2]),
    )


def detail(image: np.ndarray) -> float:
    """How much sharp detail: the variance of the Laplacian."""
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def snapshot(tmp_path: Path, raw: bool) -> np.ndarray:
    keeper, counter = SnapshotKeeper(tmp_path / ("raw" if raw else "blurred"), raw=raw), object()
    keeper.look(counter, frame(1, brightness=60), faces(0.5), NAMES)
    keeper.look(counter, frame(2, brightness=200), faces(0.8), NAMES)  # a better view: this one is kept
    keeper.look(counter, frame(3, brightness=20), faces(0.6), NAMES)
    path = keeper.take(counter, 1, "cam1-run-0-1")
    assert keeper.take(counter, 2, "cam1-run-0-2") is None  # the masked face was never kept
    keeper.close()
    image = cv2.imread(path)
    assert path.endswith("cam1-run-0-1.jpg") and abs(int(image[2, 2].mean()) - 200) < 10
    return image


def test_the_best_unmasked_view_is_kept_and_blurred_unless_raw(tmp_path: Path) -> None:
    raw, blurred = snapshot(tmp_path, raw=True), snapshot(tmp_path, raw=False)
    assert raw.shape == blurred.shape and raw.shape[0] > 40  # the face with its surroundings
    assert detail(blurred) < detail(raw) / 5  # both faces blurred, the unmasked one and the masked one beside it


def test_a_person_settled_masked_leaves_no_snapshot(tmp_path: Path) -> None:
    keeper, counter = SnapshotKeeper(tmp_path), object()
    keeper.look(counter, frame(1), faces(0.9, unmasked_class=0), NAMES)
    assert keeper.take(counter, 1, "x") is None
    keeper.look(counter, frame(1), faces(0.9), NAMES)
    keeper.forget(counter, set())  # the track ended without counting (too short, or outside the zone)
    assert keeper.take(counter, 1, "x") is None
    keeper.close()
    assert not list(tmp_path.rglob("*.jpg"))


def test_retention_deletes_old_events_and_their_snapshots_only(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'events.db'}").open()
    folder = tmp_path / "snapshots"
    old_day, new_day = folder / "2020-01-01", folder / time.strftime("%Y-%m-%d")
    for day in (old_day, new_day):
        day.mkdir(parents=True)
    old_file, new_file, stray = old_day / "old.jpg", new_day / "new.jpg", folder / "mine.jpg"
    for f in (old_file, new_file, stray):
        f.write_bytes(b"jpeg")
    os.utime(stray, (0, 0))  # old, but not ours: not in a day folder
    row = {
        "track_id": 1,
        "first_seen_s": 0.0,
        "last_seen_s": 1.0,
        "frames_seen": 5,
        "verdict": "No Mask",
        "confidence": 0.8,
    }
    store.insert(
        [
            person_event("old", 0, "cam1", "", row, time.time() - 40 * 86400, str(old_file)),
            person_event("new", 0, "cam1", "", row, time.time(), str(new_file)),
        ]
    )
    assert purge(store, folder, days=30) == 1
    assert [r["run_id"] for r in store.page("person")[0]] == ["new"]
    assert not old_day.exists() and new_file.exists() and stray.exists()


def test_a_run_with_retain_days_purges_when_it_starts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'events.db'}"
    store = EventStore(db).open()
    row = {
        "track_id": 1,
        "first_seen_s": 0.0,
        "last_seen_s": 1.0,
        "frames_seen": 5,
        "verdict": "Mask",
        "confidence": 0.8,
    }
    store.insert([person_event("old", 0, "cam1", "", row, time.time() - 10 * 86400)])
    sink = event_sink(EventOptions(db=db, retain_days=7, spool_dir=tmp_path / "spool", snapshot_dir=tmp_path))
    deadline = time.monotonic() + 10
    while store.page("person")[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    sink.close()
    assert store.page("person")[1] == 0
    store.close()
