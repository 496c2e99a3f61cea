"""The event store: SQLAlchemy over SQLite (the default: one file, nothing to install) or PostgreSQL
(many cameras or sites reporting to one store).

Opening a store runs the Alembic migrations (facemask/events/migrations) up to this version's schema,
so a newer facemask upgrades an older database in place, one process at a time. Inserts do nothing
for a key already there (INSERT ... ON CONFLICT DO NOTHING on both), so a replayed event is never
stored twice. Times are stored as UTC and come back timezone-aware.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, delete, event, func, make_url, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError

from facemask.errors import FacemaskError
from facemask.events.event import TIME_FIELDS, Event
from facemask.events.schema import TABLES, TIME_COLUMN, people
from facemask.files import source_label
from facemask.paths import RUNS_DIR


def sqlite_url(folder: Path) -> str:
    """The embedded store of a folder (runs/ by default; detect.py: beside its --project)."""
    return f"sqlite:///{Path(folder) / 'facemask.db'}"


DEFAULT_DB = sqlite_url(RUNS_DIR)
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x66616365  # a PostgreSQL advisory lock: processes opening one store migrate one at a time
CHUNK = 500  # rows per INSERT statement
DB_HINT = "sqlite:///path/to/file.db or postgresql://user:password@host:port/database"


class StoreError(FacemaskError):
    """A database URL that cannot be used, or a database this version cannot read."""


def utc(t: float | datetime) -> datetime:
    """UNIX seconds, or a datetime (naive: UTC), as an aware UTC datetime."""
    if isinstance(t, datetime):
        return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    return datetime.fromtimestamp(t, timezone.utc)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL: the REST API reads while the writer writes; NORMAL is durable across a crash of the process.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def make_engine(url: str, connect_timeout_s: float = 3.0) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (postgresql:// uses psycopg 3); StoreError for anything else."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 (sqlalchemy reads a port that is not a number only here)
    except (ArgumentError, ValueError):
        raise StoreError(f"--db: not a database URL: {source_label(url)!r} ({DB_HINT})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        if backend == "postgresql":
            return create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=20,
                max_overflow=20,
                connect_args={"connect_timeout": max(1, round(connect_timeout_s))},
            )
    except (NoSuchModuleError, ImportError) as e:
        raise StoreError(f"--db {parsed.render_as_string()}: {e}") from None
    raise StoreError(f"--db: only SQLite and PostgreSQL are supported, not {backend} ({DB_HINT})")


class EventStore:
    def __init__(self, url: str, connect_timeout_s: float = 3.0):
        """`url`: SQLite or PostgreSQL; nothing is connected until `open` or the first insert or query."""
        self.engine = make_engine(url, connect_timeout_s)
        self.ready = False  # migrated to this version's schema

    @property
    def shown(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def open(self) -> EventStore:
        """Migrate the database up to this version's schema (a no-op when it is there already). Raises
        sqlalchemy's OperationalError when the database cannot be reached, StoreError when it was made by
        a newer facemask."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        logging.getLogger("alembic").setLevel(logging.WARNING)  # no 'Context impl ...' lines on every run
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except CommandError as e:
            raise StoreError(f"{self.shown}: {e}; was it made by a newer facemask?") from None
        except OperationalError:
            raise  # away: the caller retries
        except DatabaseError as e:  # there, but no database (a SQLite path to a file of something else)
            raise StoreError(f"{self.shown}: {e.orig}; choose another --db") from None
        self.ready = True
        return self

    def insert(self, events: Sequence[Event]) -> None:
        """Store events in one transaction; those whose key is stored already are left as they are."""
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in events:
            rows[e.kind].append(_db_row(e))
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as connection:
            for kind, kind_rows in rows.items():
                statement = dialect.insert(TABLES[kind]).on_conflict_do_nothing(index_elements=["key"])
                for i in range(0, len(kind_rows), CHUNK):
                    connection.execute(statement, kind_rows[i : i + CHUNK])

    def page(
        self,
        kind: str,
        source: str | None = None,
        zone: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a kind's rows in time order, filtered, and how many rows match in all. `since`
        and `until` bound the kind's time (TIME_COLUMN), `until` excluded."""
        table = TABLES[kind]
        when = table.c[TIME_COLUMN[kind]]
        where = [table.c.source == source] if source is not None else []
        if zone is not None and "zone" in table.c:
            where.append(table.c.zone == zone)
        where += [when >= utc(since)] if since is not None else []
        where += [when < utc(until)] if until is not None else []
        with self.engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(table).where(*where))
            query = select(table).where(*where).order_by(when, table.c.id).limit(limit).offset(offset)
            found = connection.execute(query).mappings()
            return [{k: utc(v) if isinstance(v, datetime) else v for k, v in r.items()} for r in found], total

    def purge(self, before: float) -> list[str]:
        """Delete every row older than `before` (UNIX seconds); returns the snapshot files of the people
        deleted, for the caller to remove."""
        cutoff = utc(before)
        with self.engine.begin() as connection:
            old = people.c.first_seen < cutoff
            files = connection.scalars(select(people.c.snapshot).where(old, people.c.snapshot.is_not(None))).all()
            for kind, table in TABLES.items():
                connection.execute(delete(table).where(table.c[TIME_COLUMN[kind]] < cutoff))
        return list(files)

    def close(self) -> None:
        self.engine.dispose()


def _db_row(e: Event) -> dict[str, Any]:
    """An event's row as its table takes it: times as UTC datetimes, only the table's columns (a spool
    written by another version may have more or fewer)."""
    columns = [c.name for c in TABLES[e.kind].columns if c.name != "id"]
    return {c: utc(e.row[c]) if c in TIME_FIELDS and e.row.get(c) is not None else e.row.get(c) for c in columns}
