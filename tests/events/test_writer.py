"""Nothing lost, nothing twice: a multi-camera run whose PostgreSQL is down for its first seconds and is
stopped and started again in the middle stores every person its people.csv has, each once; a run
killed (SIGKILL) while its database was away leaves its events spooled, and the next run stores them."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.simulated_cameras import ColourDetector, camera_frames, people_factory
from facemask.events.event import camera_event
from facemask.events.options import EventOptions, event_sink
from facemask.events.sink import EventSink
from facemask.events.spool import Spool
from facemask.events.store import EventStore
from facemask.events.writer import EventWriter
from facemask.inference.people_files import PEOPLE_COLUMNS, RowWriter
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline
from tests.services import Postgres, free_port
from tests.waiting import wait_for


class Outages(BaseSink):
    """Starts the stopped server at the `up_at`-th frame; at the `down_at`-th, once the writer has stored
    what it spooled meanwhile, stops it, and starts it again once the writer has spooled an event it could
    not store, pacing the frames until then. Steps of the run, not of the clock, so a slow or a fast machine
    meets both outages (timed ones let a busy CI run write nothing while the server was down in the middle)."""

    def __init__(self, postgres: Postgres, sink: EventSink, up_at: int, down_at: int):
        self.postgres, self.spool, self.up_at, self.down_at = postgres, sink.outlets.writer.spool, up_at, down_at
        self.frames, self.down = 0, False

    def write(self, result: FrameResult) -> None:
        self.frames += 1
        if self.frames == self.up_at:
            self.postgres.start()
        elif self.frames == self.down_at:
            wait_for(lambda: self.spool.depth == 0, "replay of the first outage's events", 30, 0.01)
            self.postgres.stop()
            self.down = True
        elif self.down and self.spool.depth:
            self.postgres.start()
            self.down = False
        elif self.down:
            time.sleep(0.01)  # the writer's turn to meet the outage

    def close(self) -> None:
        if self.down:  # the run ended before the writer tried: the server back, and a failure that says so
            self.postgres.start()
            raise AssertionError("the writer stored nothing while the server was down in the middle")


def test_a_run_through_database_outages_stores_every_person_once(
    postgres: Postgres, pg_url: str, tmp_path: Path, capfd
) -> None:
    postgres.stop()  # down when the run starts
    sink = event_sink(EventOptions(db=pg_url, spool_dir=tmp_path / "spool", snapshots="off", retry_s=0.2))
    people_csv = RowWriter(tmp_path / "people.csv", PEOPLE_COLUMNS)
    pipeline = Pipeline(ColourDetector(), people=people_factory(None, 10.0, people_csv), concurrent=True)
    pipeline.run(camera_frames(3, 25, fps=10), [sink, Outages(postgres, sink, 150, 450)])  # of 750 frames
    people_csv.close()
    with (tmp_path / "people.csv").open() as f:
        expected = sorted((r["source"], int(r["track_id"]), r["verdict"]) for r in csv.DictReader(f))
    store = EventStore(pg_url)
    rows, total = store.page("person", limit=1000)
    assert len(expected) > 40 and total == len(expected)
    assert sorted((r["source"], r["track_id"], r["verdict"]) for r in rows) == expected
    assert store.page("camera")[1] == 6  # opened and ended, for each camera
    err = capfd.readouterr().err
    assert err.count("cannot be reached") >= 2 and "spooled events stored" in err  # down at start, and in the middle
    assert not list((tmp_path / "spool").rglob("*.jsonl"))  # nothing left waiting
    store.close()


CRASHING_RUN = """
import os, signal, sys, time
from pathlib import Path
from facemask.events.event import camera_event
from facemask.events.spool import Spool
from facemask.events.store import EventStore
from facemask.events.writer import EventWriter
writer = EventWriter(EventStore(sys.argv[1], connect_timeout_s=1), Spool(Path(sys.argv[2]), "crashed"), retry_s=60)
for i in range(50):
    writer.submit(camera_event("crashed", "cam1", i, "retried"))
while writer.spool.depth < 50:
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_run_killed_while_the_database_was_away_is_stored_by_the_next(pg_url: str, tmp_path: Path) -> None:
    away = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    killed = subprocess.run([sys.executable, "-c", CRASHING_RUN, away, str(tmp_path)], capture_output=True, timeout=60)
    assert killed.returncode == -9 and len((tmp_path / "crashed.jsonl").read_text().splitlines()) == 50
    store = EventStore(pg_url)
    writer = EventWriter(store, Spool(tmp_path, "next"))
    writer.submit(camera_event("next", "cam1", 0, "opened"))
    writer.close()
    rows, total = store.page("camera", limit=100)
    assert total == 51 and [r["run_id"] for r in rows].count("crashed") == 50
    assert not list(tmp_path.glob("*.jsonl"))
    store.close()


def test_a_spool_cut_short_mid_line_keeps_its_whole_events(tmp_path: Path) -> None:
    spool = Spool(tmp_path, "run")
    spool.append([camera_event("run", "cam1", i, "lost") for i in range(3)])
    spool.close()
    path = tmp_path / "run.jsonl"
    path.write_bytes(path.read_bytes() + b'{"kind": "camera", "row": {"key"')  # a crash in the middle of a write
    again = Spool(tmp_path, "run")
    again.append([camera_event("run", "cam1", 3, "opened")])
    assert again.depth == 4 and [e.row["status"] for chunk in again.chunks(10) for e in chunk][-1] == "opened"
    again.close()
