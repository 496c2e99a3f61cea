"""The event store's tables, as the newest migration leaves them (facemask/events/migrations: each
schema change is a migration there and a change here; tests/events/test_migrations checks they agree).

Every table has a unique `key` (facemask.events.event), on which inserts do nothing when the row is
already there, and an index on (source, time) for the REST API's filters."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()


def _time(name: str, nullable: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _common() -> list[Column]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(32), nullable=False),
        Column("run_id", String(40), nullable=False),
        Column("source", Text, nullable=False),
    ]


people = Table(
    "people",
    metadata,
    *_common(),
    Column("zone", Text, nullable=False),
    Column("track_id", Integer, nullable=False),
    _time("first_seen"),
    _time("last_seen"),
    Column("frames", Integer, nullable=False),
    Column("verdict", String(40), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("snapshot", Text),
    Index("uq_people_key", "key", unique=True),
    Index("ix_people_source_time", "source", "first_seen"),
)

intervals = Table(
    "intervals",
    metadata,
    *_common(),
    Column("zone", Text, nullable=False),
    _time("start_at"),
    _time("end_at"),
    Column("frames", Integer),  # frames read in the interval (0: the camera was down); none before 0003
    Column("people", Integer, nullable=False),
    Column("masked", Integer, nullable=False),
    Column("unmasked", Integer, nullable=False),
    Column("compliance_rate", Float),
    Index("uq_intervals_key", "key", unique=True),
    Index("ix_intervals_source_time", "source", "start_at"),
)

camera_status = Table(
    "camera_status",
    metadata,
    *_common(),
    Column("status", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    _time("at"),
    Index("uq_camera_status_key", "key", unique=True),
    Index("ix_camera_status_source_time", "source", "at"),
)

alerts = Table(
    "alerts",
    metadata,
    *_common(),
    Column("rule", Text, nullable=False),
    Column("rule_kind", String(40), nullable=False),
    Column("zone", Text, nullable=False),
    _time("at"),
    Column("value", Float, nullable=False),
    Column("message", Text, nullable=False),
    Index("uq_alerts_key", "key", unique=True),
    Index("ix_alerts_source_time", "source", "at"),
)

#: The table of each event kind, and the column its time filters (since, until) and retention read.
TABLES = {"person": people, "interval": intervals, "camera": camera_status, "alert": alerts}
TIME_COLUMN = {"person": "first_seen", "interval": "start_at", "camera": "at", "alert": "at"}
