"""The Cameras tab's history: compliance per hour and per day over the last days, read from the event
store's interval rows, so a restart of the app forgets nothing (and what detect.py wrote to the same
store shows too).

The store sums the rows per source and UTC hour (one row per hour whatever the interval length, and
over days only a few thousand rows however many cameras); hours and days are shown in the server's
local time. A store that cannot be reached is a line in the tab, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.exc import InterfaceError, OperationalError

from facemask.events.schema import intervals
from facemask.events.store import EventStore, utc
from facemask.files import source_label
from facemask.inference.counting import Tally

HOURS = 48  # the chart: compliance per hour over this many hours
DAYS = 14  # the table: people and compliance per day over this many days
HOUR_COLUMNS = ["hour", "camera", "compliance rate", "people"]
DAY_COLUMNS = ["day", "camera", "people", "masked", "unmasked", "compliance rate", "hours down"]


def _epoch_hour(dialect: str) -> ColumnElement:
    """The UTC hour an interval starts in, as hours since 1970 (SQLite keeps times as text, PostgreSQL as
    timestamptz)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", intervals.c.start_at) / 3600), Integer)
    return cast(func.strftime("%s", intervals.c.start_at), Integer) // 3600  # `/` is SQLAlchemy's true division


def hourly(store: EventStore, since: datetime, sources: list[str] | None = None) -> list[dict[str, Any]]:
    """People, masked and unmasked per source and UTC hour from `since` on; every source when `sources`
    is None. Raises sqlalchemy's OperationalError when the store cannot be reached."""
    if not store.ready:
        store.open()  # the database was away when the app started
    hour = _epoch_hour(store.engine.dialect.name).label("hour")
    where = [intervals.c.start_at >= utc(since)]
    if sources is not None:
        where.append(intervals.c.source.in_(sources))
    query = (
        select(
            intervals.c.source,
            hour,
            func.sum(intervals.c.masked).label("masked"),
            func.sum(intervals.c.unmasked).label("unmasked"),
            func.sum(intervals.c.frames).label("frames"),  # NULL for rows older than the column
        )
        .where(*where)
        .group_by(intervals.c.source, hour)
        .order_by(hour, intervals.c.source)
    )
    with store.engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        {
            "source": r.source,
            "hour": datetime.fromtimestamp(int(r.hour) * 3600, timezone.utc),
            "tally": Tally(int(r.masked or 0), int(r.unmasked or 0)),
            "down": r.frames is not None and int(r.frames) == 0,  # no frame all hour: not a quiet hour
        }
        for r in found
    ]


def history(
    store: EventStore | None, names: Mapping[str, str] | None = None, now: datetime | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The chart's rows (compliance per camera and hour, last HOURS), the table's rows (per camera and day,
    last DAYS, newest first) and a line saying what they cover. `names`: the cameras to show, by source
    as given, with the names the tab gives them; None: every source in the store."""
    empty = pd.DataFrame(columns=HOUR_COLUMNS), pd.DataFrame(columns=DAY_COLUMNS)
    if store is None:
        return *empty, "No history: start the app with `--db` (or set FACEMASK_DB) to keep the cameras' counts"
    now = now or datetime.now(timezone.utc)
    names = {source_label(s): name for s, name in names.items()} if names is not None else None  # as stored
    try:
        rows = hourly(store, now - timedelta(days=DAYS), list(names) if names is not None else None)
    except (OperationalError, InterfaceError):
        return *empty, "History: the event store cannot be reached now; it is tried again at the next refresh"
    for row in rows:
        row["camera"] = names.get(row["source"], row["source"]) if names is not None else row["source"]
        row["local"] = row["hour"].astimezone()  # the server's time zone
    recent = now - timedelta(hours=HOURS)
    hours = [
        {
            "hour": r["local"].replace(tzinfo=None),
            "camera": r["camera"],
            "compliance rate": r["tally"].rate,
            "people": r["tally"].people,
        }
        for r in rows
        if r["hour"] >= recent and r["tally"].people
    ]
    days: dict[tuple[str, str], Tally] = {}
    down: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["local"].date().isoformat(), r["camera"])
        days[key] = days.get(key, Tally()) + r["tally"]
        down[key] = down.get(key, 0) + r["down"]
    newest_first = sorted(sorted(days.items(), key=lambda kv: kv[0][1]), key=lambda kv: kv[0][0], reverse=True)
    table = [
        {"day": day, "camera": camera, **_day_row(tally), "hours down": down[day, camera]}
        for (day, camera), tally in newest_first
    ]
    people = sum(days.values(), Tally()).people_text
    line = (
        f"History: {people} over the last {DAYS} days"
        if rows
        else (f"History: nothing in the event store over the last {DAYS} days yet")
    )
    return (pd.DataFrame(hours, columns=HOUR_COLUMNS), pd.DataFrame(table, columns=DAY_COLUMNS), line)


def _day_row(tally: Tally) -> dict[str, Any]:
    row = tally.row()
    return {
        "people": row["people"],
        "masked": row["masked"],
        "unmasked": row["unmasked"],
        "compliance rate": tally.percent,
    }
