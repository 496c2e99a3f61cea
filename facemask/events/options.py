"""What a front end asks of the events (the flags of detect.py and app.py), and the one call that makes
the EventSink for them: every URL and the rules file are checked before anything starts, so a mistake
is one FacemaskError line and nothing is left running.

    options = EventOptions(db="", mqtt="mqtt://localhost:1883", alerts="rules.yaml")
    if options.wanted:
        sinks.append(event_sink(options))

A front end's flags are `add_event_flags(parser)` and `EventOptions.from_namespace(opt)`, so that every
default is the dataclass's own. The default SQLite store, the spool and the snapshots live in `folder`
(runs/; detect.py: beside its --project folder), one place that the app's store and detect.py's share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from facemask.cli import positive_float
from facemask.errors import FacemaskError
from facemask.events import metrics
from facemask.events.alerts import AlertEngine
from facemask.events.event import make_key, new_run_id
from facemask.events.mqtt import MqttPublisher, check_mqtt_url
from facemask.events.outlets import Outlets
from facemask.events.retention import purge
from facemask.events.rules import Rule, load_rules
from facemask.events.sink import EventSink
from facemask.events.snapshots import SnapshotKeeper
from facemask.events.spool import Spool
from facemask.events.store import EventStore, make_engine, sqlite_url
from facemask.events.webhook import WebhookSender, check_webhook_url
from facemask.events.writer import Chore, EventWriter
from facemask.paths import RUNS_DIR

SNAPSHOTS = ("blur", "raw", "off")
PURGE_EVERY_S = 3600.0


@dataclass
class EventOptions:
    db: str | None = None  # a database URL; "" for the default SQLite file; None: FACEMASK_DB, if set
    mqtt: str | None = None  # mqtt://host:port; None: FACEMASK_MQTT, if set
    webhook: str | None = None  # alerts are POSTed here
    alerts: str | Path | None = None  # alert rules (facemask/events/rules.py)
    snapshots: str = "blur"  # unmasked people's snapshots: blur (faces blurred), raw, off
    retain_days: float | None = None  # delete events and snapshots older than this
    zone_name: str | None = None  # what events call the counting zone (default: its points)
    folder: Path = RUNS_DIR  # the default SQLite file, and the spool and snapshots unless given
    snapshot_dir: Path | None = None  # default: folder/snapshots
    spool_dir: Path | None = None  # events waiting for an unreachable database; default: folder/spool
    run_id: str | None = None  # default: a new one
    retry_s: float = 2.0  # how often an unreachable database is tried again
    webhook_timeout_s: float = 5.0  # a POST not answered by then is tried again
    webhook_backoff_s: float = 1.0  # the first wait before a retry (then doubled, up to a minute)

    def __post_init__(self) -> None:
        """Absolute paths: the store keeps each snapshot's, for the app and API whatever their folder."""
        self.folder = Path(self.folder).absolute()
        self.snapshot_dir = Path(self.snapshot_dir or self.folder / "snapshots").absolute()
        self.spool_dir = Path(self.spool_dir or self.folder / "spool").absolute()

    @classmethod
    def from_namespace(cls, opt: argparse.Namespace, **overrides: object) -> EventOptions:
        """The options of a front end's parsed flags (add_event_flags), and `overrides` (e.g. `folder`)."""
        given = {f.name: getattr(opt, f.name) for f in fields(cls) if hasattr(opt, f.name)}
        return cls(**given | overrides)

    @property
    def db_url(self) -> str | None:
        if self.db == "":
            return sqlite_url(self.folder)
        return self.db or os.environ.get("FACEMASK_DB") or None

    @property
    def mqtt_url(self) -> str | None:
        return self.mqtt or os.environ.get("FACEMASK_MQTT") or None

    @property
    def wanted(self) -> bool:
        """Whether anything is asked for: else a front end need not add the sink."""
        return bool(self.db_url or self.mqtt_url or self.webhook or self.alerts)

    def unused(self) -> list[str]:
        """What was asked that nothing will use, to be said rather than dropped."""
        notes = []
        if not self.db_url and self.retain_days is not None:
            notes.append("--retain-days purges the event store, and there is none: add --db")
        if not self.db_url and self.snapshots != EventOptions.snapshots:
            notes.append(
                f"--snapshots {self.snapshots}: snapshots are kept with the event store, and there is none: add --db"
            )
        if self.webhook and not self.alerts:
            notes.append("--webhook is sent alerts, and no rules make any: add --alerts RULES.yaml")
        return notes

    def check(self) -> list[Rule]:
        """FacemaskError for a bad URL, rules file or --snapshots, with nothing started or connected (a
        front end calls it before it loads a model); the alert rules."""
        if self.snapshots not in SNAPSHOTS:
            raise OptionsError(f"--snapshots must be one of {', '.join(SNAPSHOTS)}, not {self.snapshots!r}")
        for url, check in ((self.mqtt_url, check_mqtt_url), (self.webhook, check_webhook_url)):
            if url:
                check(url)
        if self.db_url:
            make_engine(self.db_url).dispose()  # StoreError for a URL that is no SQLite or PostgreSQL one
        return load_rules(self.alerts) if self.alerts else []


def add_event_flags(parser: argparse.ArgumentParser) -> None:
    """The events' flags (detect.py, app.py), with EventOptions' defaults; read back by from_namespace."""
    d = EventOptions()
    g = parser.add_argument_group("events (facemask/events)")
    g.add_argument(
        "--db",
        nargs="?",
        const="",
        default=d.db,
        metavar="URL",
        help="every person, tally and camera status into a database: sqlite:///file.db, "
        "postgresql://user@host:port/db; alone: runs/facemask.db (default: $FACEMASK_DB)",
    )
    g.add_argument(
        "--mqtt",
        default=d.mqtt,
        metavar="URL",
        help="mqtt://host:1883: people, alerts, camera status on facemask/<source>/... (default: $FACEMASK_MQTT)",
    )
    g.add_argument("--webhook", default=d.webhook, metavar="URL", help="POST each alert here as JSON (http, https)")
    g.add_argument("--alerts", default=d.alerts, metavar="RULES.yaml", help="alert rules (facemask/events/rules.py)")
    g.add_argument(
        "--snapshots",
        choices=SNAPSHOTS,
        default=d.snapshots,
        help="with --db, the best frame of each unmasked person: faces blurred, raw, or off",
    )
    g.add_argument(
        "--retain-days",
        type=positive_float(),
        default=d.retain_days,
        metavar="N",
        help="delete events and snapshots older than N days (default: keep all)",
    )


class OptionsError(FacemaskError, ValueError):
    """An events option that cannot be used."""


def open_store(url: str) -> EventStore:
    """A store, migrated if the database answers now (`ready`); else its writer, or the REST API's first
    request, migrates it once it does. StoreError for a bad URL or a database of a newer facemask."""
    store = EventStore(url)
    with contextlib.suppress(OperationalError, InterfaceError):
        store.open()
    return store


def event_sink(options: EventOptions) -> EventSink:
    """The sink and its outlets for `options`; FacemaskError (before anything starts) for a bad URL,
    rules file or --snapshots, or a database made by a newer facemask."""
    rules = options.check()
    run_id = options.run_id or new_run_id()
    store = open_store(options.db_url) if options.db_url else None
    snapshots = None
    if store is not None and options.snapshots != "off":
        snapshots = SnapshotKeeper(options.snapshot_dir, raw=options.snapshots == "raw")
    outlets = Outlets(
        _writer(store, options, run_id) if store else None,
        MqttPublisher(options.mqtt_url) if options.mqtt_url else None,
        WebhookSender(options.webhook, options.webhook_timeout_s, options.webhook_backoff_s, stored=store is not None)
        if options.webhook
        else None,
        AlertEngine(rules, run_id) if rules else None,
    )
    return EventSink(outlets, run_id, snapshots, options.zone_name)


def _writer(store: EventStore, options: EventOptions, run_id: str) -> EventWriter:
    """The store's writer, its spool (one folder per store), retention as an hourly chore."""
    spool = Spool(options.spool_dir / make_key(store.shown)[:12], run_id)
    chores = []
    if options.retain_days is not None:
        chores.append(Chore(PURGE_EVERY_S, partial(purge, store, options.snapshot_dir, options.retain_days)))
    writer = EventWriter(store, spool, options.retry_s, on_written=metrics.written, chores=chores)
    metrics.WAITING.set_function(lambda: writer.waiting)
    return writer
