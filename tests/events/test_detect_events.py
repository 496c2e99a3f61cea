"""detect.py's events (issue #24) against a real PostgreSQL and a real Mosquitto (services.py), with the
colour detector of test_tracking standing in for the model (tests/inference/slow_detect.py for the script
runs): a two-camera `--track --db --mqtt` run's people arrive exactly once in the database and exactly
once on MQTT, as many as its people.csv rows; a database down when the run starts, then stopped and
started again mid-run, loses no event and stores none twice (the spool is replayed); `--db` alone is a
SQLite file beside --project, and turns tracking on; a bad URL is one line before anything starts."""

from __future__ import annotations

import csv
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import detect
from facemask.events.options import EventOptions
from facemask.events.store import EventStore
from facemask.inference import detector as detector_module
from tests.events.conftest import Listener
from tests.inference.test_tracking import FPS, H, N, W, colour_detector, make_video, people_at
from tests.scripts import run_script
from tests.services import Mosquitto, Postgres

ROOT = Path(__file__).resolve().parents[2]
SLOW_DETECT = ROOT / "tests" / "inference" / "slow_detect.py"
LOOPS = 4  # the fault test's video: test_tracking's scene this many times over, 3 people each time


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def people_of(rows: list[dict]) -> list[tuple[str, int, str]]:
    return sorted((r["source"], int(r["track_id"]), r["verdict"]) for r in rows)


def script_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FACEMASK_DB", "FACEMASK_MQTT")}
    return env | {"FACEMASK_TEST_FRAME_S": "0"}


@pytest.fixture
def cameras(tmp_path: Path) -> Path:
    """entrance (N frames: 3 people) and side (the same scene cut after 30 frames: 2 people)."""
    make_video(tmp_path / "entrance.mp4")
    make_video(tmp_path / "side.mp4", frames=30)
    listing = tmp_path / "cams.streams"
    listing.write_text("entrance.mp4\nside.mp4\n")
    return listing


def test_a_two_camera_run_arrives_once_in_postgresql_and_once_on_mqtt(
    cameras: Path, trained_run: Path, pg_url: str, mosquitto: Mosquitto, listener: Listener, tmp_path: Path
) -> None:
    args = [
        "--weights",
        trained_run / "weights" / "best.pt",
        "--source",
        cameras,
        "--track",
        "--interval",
        "2",
        "--nosave",
        "--project",
        tmp_path / "runs" / "detect",
        "--db",
        pg_url,
        "--mqtt",
        mosquitto.url,
    ]
    done = run_script(SLOW_DETECT, args, tmp_path, env=script_env())
    assert done.code == 0, done.stderr
    expected = people_of(read_csv(tmp_path / "runs" / "detect" / "exp" / "people.csv"))
    assert len(expected) == 5  # 3 at the entrance, 2 at the side

    store = EventStore(pg_url)
    rows, total = store.page("person", limit=1000)
    cameras_rows = [(Path(r["source"]).name, r["status"]) for r in store.page("camera")[0]]
    store.close()
    assert total == len(expected) and people_of(rows) == expected
    assert sorted(cameras_rows) == sorted((c, s) for c in ("entrance.mp4", "side.mp4") for s in ("opened", "ended"))
    listener.wait(lambda got: len(got.on("people")) >= len(expected))
    messages = listener.on("people", ("entrance", "side"))
    assert people_of([m.json() for m in messages]) == expected  # each exactly once
    assert sorted(m.json()["key"] for m in messages) == sorted(r["key"] for r in rows)


def looped_video(path: Path) -> Path:
    """test_tracking's scene LOOPS times over: a run of a few seconds with people settling all along."""
    import cv2

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    for i in range(N * LOOPS):
        frame = np.zeros((H, W, 3), np.uint8)
        for colour, (x, y) in people_at(i % N):
            frame[y : y + 30, x : x + 30] = colour
        out.write(frame)
    out.release()
    return path


def at_frames(actions: dict[int, Callable[[], None]]):
    """The colour detector, doing actions[n] (the database's outages) before the n-th frame: in the
    pipeline's thread, so that each happens at the same point of the video every run."""
    seen = [0]

    def detect_frame(self, image, options=None):
        if seen[0] in actions:
            actions[seen[0]]()
        seen[0] += 1
        return colour_detector(self, image, options)

    return detect_frame


def spooled(folder: Path) -> bool:
    return any(p.stat().st_size for p in folder.rglob("*.jsonl"))


def once(condition: Callable[[], bool], action: Callable[[], None], timeout_s: float = 30.0) -> Callable[[], None]:
    """`action` once `condition` holds (or `timeout_s` has passed): the writer's thread can lag the frames
    on a busy machine, and an outage it never met, or two it met as one, would test nothing."""

    def act() -> None:
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        action()

    return act


def test_a_database_down_at_the_start_and_mid_run_loses_no_event_and_stores_none_twice(
    postgres: Postgres, pg_url: str, trained_run: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    video = looped_video(tmp_path / "hall.mp4")
    postgres.stop()  # down as the run starts: its first events go to the spool
    spool = tmp_path / "spool"
    outages = {  # each restart once the writer has spooled, the second stop once the first outage is replayed
        80: once(lambda: spooled(spool), postgres.start),
        150: once(lambda: not spooled(spool), postgres.stop),
        220: once(lambda: spooled(spool), postgres.start),
    }
    monkeypatch.setattr(detector_module.Detector, "__call__", at_frames(outages))
    monkeypatch.setattr(detect, "EventOptions", functools.partial(EventOptions, retry_s=0.2))  # retry sooner
    try:
        detect.run(
            weights=trained_run / "weights" / "best.pt",
            source=video,
            project=tmp_path / "runs",
            nosave=True,
            track=True,
            interval=2.0,
            db=pg_url,
        )
    finally:
        if not postgres.running:
            postgres.start()
    err = capsys.readouterr().err
    assert "cannot be reached" in err and err.count("spooled events stored") >= 2  # both outages replayed

    out = tmp_path / "runs" / "exp"
    people = read_csv(out / "hall_people.csv")
    assert len(people) == 3 * LOOPS
    store = EventStore(pg_url)
    rows, total = store.page("person", limit=1000)
    intervals, _ = store.page("interval", limit=1000)
    statuses = [r["status"] for r in store.page("camera")[0]]
    store.close()
    assert total == len(people) and people_of(rows) == people_of(people)
    assert len({r["key"] for r in rows}) == total  # none twice
    assert len(intervals) == len(read_csv(out / "hall_compliance.csv"))
    assert statuses == ["opened", "ended"]
    assert not [p for p in (tmp_path / "spool").rglob("*.jsonl") if p.stat().st_size]  # nothing left waiting


def test_db_alone_is_a_sqlite_file_beside_the_project_and_turns_tracking_on(trained_run: Path, tmp_path: Path) -> None:
    make_video(tmp_path / "entrance.mp4")
    args = [
        "--weights",
        trained_run / "weights" / "best.pt",
        "--source",
        "entrance.mp4",
        "--nosave",
        "--project",
        "runs/detect",
        "--db",
    ]
    done = run_script(SLOW_DETECT, args, tmp_path, env=script_env())
    assert done.code == 0, done.stderr
    people = read_csv(tmp_path / "runs" / "detect" / "exp" / "entrance_people.csv")  # tracked without --track
    assert len(people) == 3
    db = tmp_path / "runs" / "facemask.db"
    store = EventStore(f"sqlite:///{db}")
    rows, _ = store.page("person")
    store.close()
    assert people_of(rows) == people_of(people)
    unmasked = [r for r in rows if r["verdict"] != "Mask"]
    snapshots = (tmp_path / "runs" / "snapshots").resolve()
    assert unmasked and all(Path(r["snapshot"]).resolve().is_relative_to(snapshots) for r in unmasked)
    assert all(Path(r["snapshot"]).is_file() for r in unmasked)


@pytest.mark.parametrize("flag", [["--mqtt", "http://broker:1883"], ["--webhook", "ftp://x"], ["--db", "mysql://x/y"]])
def test_a_bad_url_is_one_line_and_starts_nothing(flag: list[str], tmp_path: Path) -> None:
    done = run_script(
        ROOT / "detect.py", ["--source", "missing.mp4", "--project", "runs/detect", *flag], tmp_path, env=script_env()
    )
    assert done.code == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert flag[0] in done.stderr and not (tmp_path / "runs").exists()
