"""benchmarks/event_store.py on tiny input (two cameras for a second, a small flood, a few API clients for
half a second) against the event tests' PostgreSQL (tests/services.py: skipped without one, a
failure with FACEMASK_REQUIRE_SERVICES=1), and through it its helper benchmarks/simulated_cameras.py (the
cameras part); that helper's own promise, a known number of people, is in test_simulated_cameras.py."""

from __future__ import annotations

import re
import shlex

from benchmarks import event_store


def test_the_event_store_benchmark_runs_on_tiny_input(pg_url: str, capsys) -> None:
    flags = shlex.split("--cameras 2 --fps 10 --minutes 0.02 --flood 300 --clients 4 --api-seconds 0.5")
    figures = event_store.run(**vars(event_store.parse_opt([*flags, "--db", pg_url])))
    cameras, flood, api = figures["cameras"], figures["flood"], figures["api"]
    assert cameras["frames"] == 2 * 12 and cameras["events"] > 0 and cameras["spooled_at_end"] == 0
    assert cameras["fps_per_camera"] > 0 and cameras["p99_write_ms"] > 0 and cameras["sink_ms_p99"] > 0
    assert flood["events"] == 300 and flood["events_per_s"] > 0
    assert api["requests"] > 0 and api["errors"] == 0 and api["p95_ms"] > 0
    out = capsys.readouterr().out
    assert re.search(r"^cameras: 2 x 10 fps for 0\.02 min -> [\d.]+ fps per camera kept up, \d+ events, ", out, re.M)
    assert re.search(r"^flood: 300 events -> \d+ events/s stored, p99 write \d+ ms$", out, re.M), out
    assert re.search(r"^api: 4 clients -> \d+ requests/s, p95 \d+ ms, 0 errors of \d+$", out, re.M), out
