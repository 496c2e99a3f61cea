"""Alembic migrations: a database made by the first schema is upgraded in place by the current code,
its rows intact; the newest migration is the schema the code writes; a newer database is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from facemask.events.schema import metadata
from facemask.events.store import MIGRATIONS, EventStore, StoreError, make_engine

FIRST = "0001"
ROW = {
    "key": "k1",
    "run_id": "old-run",
    "source": "cam1",
    "zone": "",
    "track_id": 7,
    "first_seen": "2025-01-02 03:04:05",
    "last_seen": "2025-01-02 03:04:09",
    "frames": 12,
    "verdict": "No Mask",
    "confidence": 0.9,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")


def upgrade(url: str, revision: str) -> None:
    """What an older facemask did when it opened the store: upgrade to its own newest revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_a_first_schema_database_is_upgraded_with_its_rows(url: str) -> None:
    upgrade(url, FIRST)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text(f"INSERT INTO people ({', '.join(ROW)}) VALUES ({', '.join(':' + k for k in ROW)})"), ROW)
        c.execute(
            text(
                "INSERT INTO camera_status (key, run_id, source, status, detail, at) "
                "VALUES ('c1', 'old-run', 'cam1', 'opened', '', '2025-01-02 03:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO intervals (key, run_id, source, zone, start_at, end_at, people, masked, unmasked) "
                "VALUES ('i1', 'old-run', 'cam1', '', '2025-01-02 03:00:00', '2025-01-02 03:01:00', 2, 1, 1)"
            )
        )
    assert "alerts" not in inspect(engine).get_table_names()
    store = EventStore(url).open()
    people, total = store.page("person")
    assert total == 1 and people[0]["track_id"] == 7 and people[0]["verdict"] == "No Mask"
    assert people[0]["snapshot"] is None and people[0]["first_seen"].year == 2025
    assert store.page("camera")[1] == 1 and store.page("alert")[1] == 0
    intervals, _ = store.page("interval")
    assert (intervals[0]["people"], intervals[0]["frames"]) == (2, None)  # how many frames came was not kept
    with engine.connect() as c:
        assert c.scalar(text("SELECT version_num FROM alembic_version")) == "0003"
    store.close()
    engine.dispose()


def test_the_newest_migration_is_the_schema_the_code_writes(url: str) -> None:
    EventStore(url).open().close()
    engine = make_engine(url)
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), metadata) == []
    engine.dispose()


def test_a_database_of_a_newer_facemask_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    EventStore(url).open().close()
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer facemask"):
        EventStore(url).open()
