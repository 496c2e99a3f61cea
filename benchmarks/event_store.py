"""The event store under load, into PostgreSQL: a benchmark, not a test. Three parts:

- cameras: `--cameras` simulated cameras (benchmarks/simulated_cameras.py) at `--fps` frames a second on
  the wall clock for `--minutes`, through the pipeline (a colour detector standing in for the model,
  ByteTrack, a people counter per camera) and an EventSink whose writer stores into PostgreSQL: frames
  per second kept up, events per second stored, p99 write latency (from an event settling to its
  commit), the most events waiting (queue and spool, sampled each second), the sink's time per frame.
- flood: `--flood` events handed to a writer at once: how many a second it stores when it never waits.
- api: `--clients` concurrent clients of the REST API (uvicorn in a process of its own, on loopback) for
  `--api-seconds`, reading pages of people, intervals, cameras and alerts: requests per second, p95
  latency, errors.

Without --db, a throwaway PostgreSQL server (Debian's postgresql, fsync on) is started in a temporary
folder, as the tests start theirs.

Usage:
    python -m benchmarks.event_store                          # 8 cameras at 25 fps for 5 minutes
    python -m benchmarks.event_store --minutes 1 --clients 20
    python -m benchmarks.event_store --db postgresql://facemask@localhost:5432/facemask
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

from benchmarks import defaults
from benchmarks.simulated_cameras import ColourDetector, camera_frames, people_factory
from facemask.cli import positive_float, positive_int, run_or_fail
from facemask.errors import FacemaskError
from facemask.events.event import Event, new_run_id, person_event
from facemask.events.outlets import Outlets
from facemask.events.sink import EventSink
from facemask.events.spool import Spool
from facemask.events.store import EventStore
from facemask.events.writer import EventWriter
from facemask.inference.pipeline import BaseSink, Pipeline
from tests.services import Postgres, free_port, postgres_bin, wait_for_port

PATHS = ("/api/v1/people", "/api/v1/intervals", "/api/v1/cameras", "/api/v1/alerts")


def run(
    db: str | None = None,
    cameras: int = 8,
    fps: float = 25.0,
    minutes: float = 5.0,
    flood: int = 20000,
    clients: int = 100,
    api_seconds: float = 20.0,
) -> dict[str, Any]:
    """Run the three parts against `db` (default: a throwaway PostgreSQL), print and return their figures."""
    with database(db) as url:
        figures = {
            "cameras": camera_feed(url, cameras, fps, minutes),
            "flood": flood_store(url, flood),
            "api": api_load(url, clients, api_seconds),
        }
    print(report(figures, cameras, fps, minutes, clients))
    return figures


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    bindir = postgres_bin()
    if bindir is None:
        raise FacemaskError("no --db given and PostgreSQL is not installed (apt-get install -y postgresql)")
    server = Postgres(bindir, fsync=True)
    try:
        server.start()
        yield server.create_database("facemask_bench")
    finally:
        server.destroy()


class Stored:
    """The writer's on_written: how long each event took from settling to its commit."""

    def __init__(self):
        self.latencies: list[float] = []

    def __call__(self, events: list[Event]) -> None:
        now = time.monotonic()
        self.latencies += [now - e.submitted for e in events]


class TimedSink(BaseSink):
    """A sink's write, timed: what the event sink costs the pipeline per frame."""

    def __init__(self, sink: BaseSink):
        self.sink, self.seconds = sink, []

    def write(self, result) -> None:
        start = time.perf_counter()
        self.sink.write(result)
        self.seconds.append(time.perf_counter() - start)

    def skip(self, frame) -> None:
        self.sink.skip(frame)

    def follow(self, source, people) -> None:
        self.sink.follow(source, people)

    def source_done(self, source, people) -> None:
        self.sink.source_done(source, people)

    def close(self) -> None:
        self.sink.close()


def writer_for(url: str, folder: Path, stored: Stored) -> tuple[EventWriter, str]:
    """A writer of a new run into `url`, spooling in `folder`; and the run's id."""
    run_id = new_run_id()
    return EventWriter(EventStore(url).open(), Spool(folder, run_id), on_written=stored), run_id


def camera_feed(url: str, cameras: int, fps: float, minutes: float) -> dict[str, Any]:
    stored, most_waiting, done = Stored(), [0], threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        writer, run_id = writer_for(url, Path(tmp), stored)
        sink = TimedSink(EventSink(Outlets(writer), run_id))

        def sample() -> None:
            while not done.wait(1.0):
                most_waiting[0] = max(most_waiting[0], writer.waiting)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        pipeline = Pipeline(ColourDetector(), people=people_factory(None, 10.0), concurrent=True)
        start = time.monotonic()
        pipeline.run(camera_frames(cameras, minutes * 60, fps, realtime=True), [sink])
        elapsed = time.monotonic() - start
        done.set()
        sampler.join()
    latencies = np.array(stored.latencies) * 1000
    sink_ms = np.array(sink.seconds) * 1000
    return {
        "frames": len(sink_ms),
        "fps_per_camera": len(sink_ms) / elapsed / cameras,
        "events": len(latencies),
        "events_per_s": len(latencies) / elapsed,
        "p99_write_ms": float(np.percentile(latencies, 99)) if len(latencies) else None,
        "most_waiting": most_waiting[0],
        "spooled_at_end": writer.spool.depth,
        "sink_ms_mean": float(sink_ms.mean()),
        "sink_ms_p99": float(np.percentile(sink_ms, 99)),
    }


def flood_store(url: str, count: int) -> dict[str, Any]:
    stored = Stored()
    with tempfile.TemporaryDirectory() as tmp:
        writer, run_id = writer_for(url, Path(tmp), stored)
        row = {"first_seen_s": 0.0, "last_seen_s": 2.0, "frames_seen": 10, "verdict": "No Mask", "confidence": 0.8}
        start = time.monotonic()
        for i in range(count):
            writer.submit(person_event(run_id, 0, f"flood{i % 8}", "", {**row, "track_id": i}, time.time()))
        while len(stored.latencies) < count and time.monotonic() - start < 600:
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        writer.close()
    return {
        "events": len(stored.latencies),
        "events_per_s": len(stored.latencies) / elapsed,
        "p99_write_ms": float(np.percentile(np.array(stored.latencies) * 1000, 99)),
    }


def _clients(port: int, clients: int, seconds: float) -> tuple[list[float], int]:
    """`clients` threads, each a client with a keep-alive connection of its own, reading pages until time is up."""
    latencies, errors, end = [], [0], time.monotonic() + seconds

    def client(seed: int) -> None:
        pick, connection = random.Random(seed), http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < end:
            path = pick.choice(PATHS)
            query = urlencode({"limit": 100, **({"source": f"cam{pick.randint(1, 8)}"} if path != PATHS[3] else {})})
            start = time.perf_counter()
            try:
                connection.request("GET", f"{path}?{query}")
                answer = connection.getresponse()
                answer.read()
                errors[0] += answer.status != 200
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
            latencies.append(time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def api_load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "FACEMASK_DB": url, "FACEMASK_API_TOKEN": ""}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "facemask.events.api:standalone_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        wait_for_port(port, 120)
        start = time.monotonic()
        latencies, errors = _clients(port, clients, seconds)
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(30)
    return {
        "requests": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "errors": errors,
        "p95_ms": float(np.percentile(np.array(latencies) * 1000, 95)) if latencies else None,
    }


def report(f: dict[str, Any], cameras: int, fps: float, minutes: float, clients: int) -> str:
    c, fl, a = f["cameras"], f["flood"], f["api"]
    return "\n".join(
        [
            f"cameras: {cameras} x {fps:g} fps for {minutes:g} min -> {c['fps_per_camera']:.1f} fps per camera kept up,"
            f" {c['events']} events, {c['events_per_s']:.1f} events/s stored,"
            f" p99 write {c['p99_write_ms'] or 0:.1f} ms, most waiting {c['most_waiting']},"
            f" spooled at the end {c['spooled_at_end']},"
            f" sink {c['sink_ms_mean']:.3f} ms per frame (p99 {c['sink_ms_p99']:.3f})",
            f"flood: {fl['events']} events -> {fl['events_per_s']:.0f} events/s stored, "
            f"p99 write {fl['p99_write_ms']:.0f} ms",
            f"api: {clients} clients -> {a['requests_per_s']:.0f} requests/s, p95 {a['p95_ms'] or 0:.0f} ms, "
            f"{a['errors']} errors of {a['requests']}",
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU cores",
        ]
    )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="a PostgreSQL URL (default: a throwaway server)")
    p.add_argument("--cameras", type=positive_int())
    p.add_argument("--fps", type=positive_float())
    p.add_argument("--minutes", type=positive_float())
    p.add_argument("--flood", type=positive_int(), help="events handed to the writer at once")
    p.add_argument("--clients", type=positive_int(), help="concurrent REST API clients")
    p.add_argument("--api-seconds", type=positive_float())
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.event_store", run, opt)


if __name__ == "__main__":
    main(parse_opt())
