"""EventSink in a pipeline: a simulated multi-camera run's people arrive exactly once in PostgreSQL and
exactly once on MQTT, as many as its people.csv rows, with its compliance rows as intervals and a
blurred snapshot for each unmasked person; a source that fails is lost, retried, then given up."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from benchmarks.simulated_cameras import ColourDetector, camera_frames, people_factory
from facemask.events.options import EventOptions, event_sink
from facemask.events.store import EventStore
from facemask.inference.media import Frame
from facemask.inference.people_files import PEOPLE_COLUMNS, RowWriter
from facemask.inference.pipeline import Pipeline
from facemask.inference.streams import MultiSource
from tests.events.conftest import Listener, subscribe
from tests.services import Mosquitto


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_multi_camera_run_arrives_once_in_postgresql_and_once_on_mqtt(
    pg_url: str, mosquitto: Mosquitto, listener: Listener, tmp_path: Path
) -> None:
    options = EventOptions(db=pg_url, mqtt=mosquitto.url, spool_dir=tmp_path / "spool", snapshot_dir=tmp_path / "snaps")
    sink = event_sink(options)
    people_csv = RowWriter(tmp_path / "people.csv", PEOPLE_COLUMNS)
    pipeline = Pipeline(ColourDetector(), people=people_factory(None, 5.0, people_csv), concurrent=True)
    pipeline.run(camera_frames(3, 20, fps=10), [sink])
    people_csv.close()

    people = read_csv(tmp_path / "people.csv")
    expected = sorted((r["source"], int(r["track_id"]), r["verdict"]) for r in people)
    store = EventStore(pg_url)
    rows, total = store.page("person", limit=1000)
    assert len(expected) > 25 and total == len(expected)
    assert sorted((r["source"], r["track_id"], r["verdict"]) for r in rows) == expected
    listener.wait(lambda got: len(got.on("people")) >= len(expected))
    messages = [m.json() for m in listener.on("people")]
    assert sorted((m["source"], m["track_id"], m["verdict"]) for m in messages) == expected  # each exactly once
    assert {m["key"] for m in messages} == {r["key"] for r in rows}

    for camera in ("cam1", "cam2", "cam3"):  # every 5 s interval, with the people first seen in it
        intervals, _ = store.page("interval", source=camera)
        assert len(intervals) == 4
        for n, interval in enumerate(intervals):
            first_seen = [r for r in people if r["source"] == camera and n * 5 <= float(r["first_seen_s"]) < n * 5 + 5]
            assert (interval["frames"], interval["people"], interval["masked"]) == (
                50,  # 5 s at 10 fps
                len(first_seen),
                sum(r["verdict"] == "Mask" for r in first_seen),
            )
    statuses = [(r["source"], r["status"]) for r in store.page("camera")[0]]
    assert sorted(statuses) == sorted([(c, s) for c in ("cam1", "cam2", "cam3") for s in ("opened", "ended")])
    ended = {r["source"]: r["at"] for r in store.page("camera")[0] if r["status"] == "ended"}
    assert all(r["last_seen"] <= ended[r["source"]] for r in rows)  # 20 s read in less: still in stream time

    unmasked = [r for r in rows if r["verdict"] != "Mask"]
    assert unmasked and all(r["snapshot"] and cv2.imread(r["snapshot"]) is not None for r in unmasked)
    assert all(r["snapshot"] is None for r in rows if r["verdict"] == "Mask")

    later = subscribe(mosquitto)  # what Home Assistant gets when it subscribes after the run
    cameras = ("cam1", "cam2", "cam3")
    later.wait(lambda got: len(got.on("status", cameras)) >= 4, timeout_s=5)
    topics = [f"facemask/{c}/status" for c in cameras] + ["facemask/status"]  # + facemask's own
    statuses = {(m.topic, m.payload, m.retain) for m in later.on("status", cameras)}
    assert statuses == {(t, b"offline", True) for t in topics}
    # the last tally is kept, people are not
    assert len(later.on("compliance", cameras)) == 3 and not later.on("people", cameras)
    later.close()
    store.close()


def test_a_failing_source_is_lost_retried_then_given_up_one_row_each(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'events.db'}"
    sink = event_sink(EventOptions(db=db, spool_dir=tmp_path / "spool", snapshots="off"))
    missing = str(tmp_path / "door.mp4")
    with MultiSource([missing], retry_s=0.01, file_retries=5) as frames:  # 4 failed retries: one row
        Pipeline(ColourDetector(), people=people_factory(None, 10.0)).run(frames, [sink])
    store = EventStore(db)
    rows, _ = store.page("camera")
    store.close()
    assert [(r["source"], r["status"]) for r in rows] == [
        (missing, "lost"),
        (missing, "retried"),
        (missing, "given_up"),
    ]
    assert "given up" in rows[-1]["detail"]


def test_a_camera_down_has_its_empty_intervals_stored_while_it_is_down(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'events.db'}"
    sink = event_sink(EventOptions(db=db, spool_dir=tmp_path / "spool", snapshots="off"))
    emitted, emit = [], sink.outlets.emit
    sink.outlets.emit = lambda event: (emitted.append(event), emit(event))  # what goes out, and when
    while_down = []

    def live() -> Iterator[Frame]:
        for frame in camera_frames(1, 2, fps=10):  # 20 frames, read at once
            frame.live = True
            yield frame
        time.sleep(2.5)  # then nothing for 2.5 s, and the reader says so
        yield Frame("cam1", "cam1", is_video=True, live=True, error="the stream ended (retrying in 5 s)")
        while_down.extend(e.row["frames"] for e in emitted if e.kind == "interval")

    Pipeline(ColourDetector(), people=people_factory(None, 1.0)).run(live(), [sink])
    store = EventStore(db)
    intervals, _ = store.page("interval", limit=100)
    people, _ = store.page("person", limit=100)
    statuses = [r["status"] for r in store.page("camera")[0]]
    store.close()
    frames = [r["frames"] for r in sorted(intervals, key=lambda r: r["start_at"])]
    assert sum(frames) == 20 and frames[-2:] == [0, 0] and len(frames) >= 3  # 1-2 s and 2-2.5 s: down
    assert while_down == frames[:-1]  # all but the last, open one, before the camera was back or the run ended
    assert people and statuses == ["opened", "lost"]  # still lost when the run stopped


def test_a_camera_that_never_opens_has_its_down_intervals_stored(tmp_path: Path) -> None:
    """A camera down from the start is down, not absent: its intervals, with no frames, reach the store (and
    so the app's history, as hours down) as a camera lost later has its own."""
    from facemask.inference.people_report import PeopleReport

    db = f"sqlite:///{tmp_path / 'events.db'}"
    sink, report = event_sink(EventOptions(db=db, spool_dir=tmp_path / "spool", snapshots="off")), PeopleReport()

    def never_up() -> Iterator[Frame]:
        for _ in range(3):  # refused at each retry, 0.6 s apart
            yield Frame("rtsp://cam/9", "stream9", is_video=True, live=True, error="cannot open: refused (retrying)")
            time.sleep(0.6)

    Pipeline(ColourDetector(), people=people_factory(tmp_path, 0.5)).run(never_up(), [sink, report])
    store = EventStore(db)
    intervals = [r["frames"] for r in sorted(store.page("interval", limit=100)[0], key=lambda r: r["start_at"])]
    statuses = [r["status"] for r in store.page("camera")[0]]
    store.close()
    assert len(intervals) >= 3 and set(intervals) == {0}  # 1.8 s down, in intervals of 0.5 s
    assert statuses == ["lost", "retried"]
    listed = report.to_dict()["sources"]["rtsp://cam/9"]
    assert (listed["name"], listed["people"], listed["frames"]) == ("stream9", 0, 0) and "refused" in listed["error"]
    assert [row["frames"] for row in listed["intervals"]] == intervals  # its files say the same
    assert (tmp_path / "stream9_compliance.png").is_file()
