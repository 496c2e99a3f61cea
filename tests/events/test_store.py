"""The event store on SQLite (the default: a file under runs/) and on a real PostgreSQL server: events
stored once however often they are inserted, read back in pages with filters, purged by age."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from facemask.events.event import camera_event, interval_event, person_event
from facemask.events.options import EventOptions
from facemask.events.store import DEFAULT_DB, EventStore, StoreError
from facemask.paths import RUNS_DIR

T0 = 1_780_000_000.0  # a fixed wall time, so that filters are exact


def people(source: str, n: int, zone: str = "", run: str = "run1") -> list:
    return [
        person_event(
            run,
            0,
            source,
            zone,
            {
                "track_id": i,
                "first_seen_s": 10.0 * i,
                "last_seen_s": 10.0 * i + 4,
                "frames_seen": 9,
                "verdict": "Mask" if i % 2 else "No Mask",
                "confidence": 0.75,
            },
            T0,
        )
        for i in range(n)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_inserting_twice_stores_once_on_both_databases(url: str) -> None:
    store = EventStore(url).open()
    events = [
        *people("cam1", 5),
        *people("cam2", 3, zone="door"),
        camera_event("run1", "cam1", 0, "opened", at=T0),
        interval_event(
            "run1",
            0,
            "cam1",
            "",
            {
                "start_s": 0.0,
                "end_s": 60.0,
                "frames": 1500,
                "people": 5,
                "masked": 2,
                "unmasked": 3,
                "compliance_rate": 0.4,
            },
            T0,
        ),
    ]
    store.insert(events)
    store.insert(events[2:] + people("cam1", 6))  # a replay, and one new person
    rows, total = store.page("person", limit=100)
    assert total == 9 and len({r["key"] for r in rows}) == 9
    [interval] = store.page("interval")[0]
    assert store.page("camera")[1] == 1 and (interval["frames"], interval["compliance_rate"]) == (1500, 0.4)
    first = rows[0]
    assert first["first_seen"].timestamp() == pytest.approx(T0) and first["first_seen"].tzinfo is not None
    store.close()


def test_pages_filter_by_source_zone_and_time(url: str) -> None:
    store = EventStore(url).open()
    store.insert(people("cam1", 10) + people("cam2", 4, zone="door"))
    rows, total = store.page("person", source="cam1", since=T0 + 20, until=T0 + 60, limit=2, offset=1)
    assert total == 4 and [r["track_id"] for r in rows] == [3, 4]  # first seen at 20, 30, 40, 50: the 2nd and 3rd
    assert store.page("person", zone="door")[1] == 4 and store.page("person", source="nowhere")[1] == 0
    store.close()


def test_purge_deletes_old_rows_and_names_their_snapshots(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'events.db'}").open()
    old, new = people("cam1", 2, run="old"), people("cam1", 2, run="new")
    for e in old:
        e.row["first_seen"] -= 40 * 86400
        e.row["snapshot"] = str(tmp_path / f"{e.row['track_id']}.jpg")
    store.insert(old + new)
    assert sorted(store.purge(T0 - 86400)) == sorted(e.row["snapshot"] for e in old)
    assert {r["run_id"] for r in store.page("person")[0]} == {"new"}


def test_the_default_store_is_a_sqlite_file_under_runs(monkeypatch) -> None:
    monkeypatch.delenv("FACEMASK_DB", raising=False)
    assert EventOptions(db="").db_url == DEFAULT_DB == f"sqlite:///{RUNS_DIR / 'facemask.db'}"
    assert EventOptions().db_url is None and not EventOptions().wanted
    monkeypatch.setenv("FACEMASK_DB", "postgresql://facemask@db:5432/facemask")
    assert EventOptions().db_url == "postgresql://facemask@db:5432/facemask" and EventOptions().wanted
    store = EventStore("postgresql://facemask:secret@db:5432/facemask")
    assert store.engine.dialect.driver == "psycopg" and "secret" not in store.shown


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://db/facemask", "sqlite+nodriver:///x.db", "postgresql://f:secret@db:notaport/f"]
)
def test_a_database_url_that_cannot_be_used_is_one_clear_error(url: str) -> None:
    with pytest.raises(StoreError, match="--db") as e:
        EventStore(url)
    assert "secret" not in str(e.value)


def test_a_sqlite_file_that_is_no_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("my notes, not a database")
    with pytest.raises(StoreError, match="file is not a database; choose another --db"):
        EventStore(f"sqlite:///{tmp_path / 'notes.db'}").open()
    assert (tmp_path / "notes.db").read_text() == "my notes, not a database"


def test_a_sqlite_store_creates_its_folder(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'new' / 'deeper' / 'events.db'}").open()
    store.insert(people("cam1", 1))
    assert (tmp_path / "new" / "deeper" / "events.db").is_file() and time.time() > T0
