"""What a front end asks of the events (the flags of detect.py and app.py), and the one call that makes
the EventSink for them: every URL and the rules file are checked before anything starts, so a mistake
is one FacemaskError line and nothing is left running.

    options = EventOptions(db="", mqtt="mqtt://localhost:1883", alerts="rules.yaml")
    if options.wanted:
        sinks.append(event_sink(options))
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from facemask.errors import FacemaskError
from facemask.events import metrics
from facemask.events.alerts import AlertEngine
from facemask.events.event import make_key, new_run_id
from facemask.events.mqtt import MqttPublisher, check_mqtt_url
from facemask.events.outlets import Outlets
from facemask.events.retention import purge
from facemask.events.rules import load_rules
from facemask.events.sink import EventSink
from facemask.events.snapshots import SnapshotKeeper
from facemask.events.spool import Spool
from facemask.events.store import DEFAULT_DB, EventStore
from facemask.events.webhook import WebhookSender, check_webhook_url
from facemask.events.writer import Chore, EventWriter
from facemask.paths import RUNS_DIR

SNAPSHOTS = ("blur", "raw", "off")
PURGE_EVERY_S = 3600.0


@dataclass
class EventOptions:
    db: str | None = None  # a database URL; "" for the default SQLite file; None: FACEMASK_DB, if set
    mqtt: str | None = None  # mqtt://host:port
    webhook: str | None = None  # alerts are POSTed here
    alerts: str | Path | None = None  # alert rules (facemask/events/rules.py)
    snapshots: str = "blur"  # unmasked people's snapshots: blur (faces blurred), raw, off
    snapshot_dir: Path = RUNS_DIR / "snapshots"
    retain_days: float | None = None  # delete events and snapshots older than this
    spool_dir: Path = RUNS_DIR / "spool"  # events waiting for an unreachable database
    zone_name: str | None = None  # what events call the counting zone (default: its points)
    run_id: str | None = None  # default: a new one
    retry_s: float = 2.0  # how often an unreachable database is tried again
    webhook_timeout_s: float = 5.0  # a POST not answered by then is tried again
    webhook_backoff_s: float = 1.0  # the first wait before a retry (then doubled, up to a minute)

    @property
    def db_url(self) -> str | None:
        if self.db == "":
            return DEFAULT_DB
        return self.db or os.environ.get("FACEMASK_DB") or None

    @property
    def wanted(self) -> bool:
        """Whether anything is asked for: else a front end need not add the sink."""
        return bool(self.db_url or self.mqtt or self.webhook or self.alerts)


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
    if options.snapshots not in SNAPSHOTS:
        raise OptionsError(f"--snapshots must be one of {', '.join(SNAPSHOTS)}, not {options.snapshots!r}")
    rules = load_rules(options.alerts) if options.alerts else []
    for url, check in ((options.mqtt, check_mqtt_url), (options.webhook, check_webhook_url)):
        if url:
            check(url)
    run_id = options.run_id or new_run_id()
    store = open_store(options.db_url) if options.db_url else None
    snapshots = None
    if store is not None and options.snapshots != "off":
        snapshots = SnapshotKeeper(options.snapshot_dir, raw=options.snapshots == "raw")
    outlets = Outlets(_writer(store, options, run_id) if store else None,
                      MqttPublisher(options.mqtt) if options.mqtt else None,
                      WebhookSender(options.webhook, options.webhook_timeout_s, options.webhook_backoff_s)
                      if options.webhook else None,
                      AlertEngine(rules, run_id) if rules else None)  # fmt: skip
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
