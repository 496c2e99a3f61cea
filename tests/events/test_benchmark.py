"""benchmarks/event_store.py on tiny input (two cameras for a second, a small flood, a few API
clients for half a second) against the test PostgreSQL: it runs end to end and its figures add up."""

from __future__ import annotations

from benchmarks import event_store


def test_the_event_store_benchmark_runs_on_tiny_input(pg_url: str, capsys) -> None:
    figures = event_store.run(db=pg_url, cameras=2, fps=10, minutes=0.02, flood=300, clients=4, api_seconds=0.5)
    cameras, flood, api = figures["cameras"], figures["flood"], figures["api"]
    assert cameras["frames"] == 2 * 12 and cameras["events"] > 0 and cameras["spooled_at_end"] == 0
    assert flood["events"] == 300 and flood["events_per_s"] > 0
    assert api["requests"] > 0 and api["errors"] == 0 and api["p95_ms"] > 0
    assert "events/s stored" in capsys.readouterr().out
