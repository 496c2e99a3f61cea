"""Events into the store from a background thread, so that detection never waits for a database.

`submit` only puts an event on a queue. The writer's thread stores what the queue holds in batches;
while the database cannot be reached (down, restarting, not there yet at start), it appends them to the
spool on disk instead and tries again every `retry_s`; once the database answers, the spool is replayed
in order, then the queue goes on. Keys make every insert idempotent, so a replay cut short is simply
done again. Closing stores (or spools) everything submitted before it returns; what is still spooled
is replayed by the next run. Chores (retention) run in the same thread while the database is up.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from facemask.errors import warn
from facemask.events.event import Event
from facemask.events.spool import Spool
from facemask.events.store import EventStore, StoreError

UNREACHABLE = (OperationalError, InterfaceError)  # the database is away; anything else is a bad event
TAKE_S = 0.2  # the longest the thread waits for an event before looking at the spool and chores again


def _reason(e: Exception) -> str:
    """The first line of a database error, without SQLAlchemy's background link."""
    cause = getattr(e, "orig", None) or e
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


@dataclass
class Chore:
    every_s: float
    run: Callable[[], None]
    due: float = 0.0  # monotonic time it runs next (0: at once)


class EventWriter:
    def __init__(
        self,
        store: EventStore,
        spool: Spool,
        retry_s: float = 2.0,
        batch: int = 500,
        on_written: Callable[[Sequence[Event]], None] | None = None,
        chores: Sequence[Chore] = (),
    ):
        """`on_written` is called (in the writer's thread) with each batch once it is in the database."""
        self.store, self.spool, self.retry_s, self.batch = store, spool, retry_s, batch
        self.on_written, self.chores = on_written, list(chores)
        self.online = store.ready
        self._retry_at = 0.0
        self._queue: queue.Queue[Event] = queue.Queue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self._thread.start()

    def submit(self, event: Event) -> None:
        """Never blocks: the event is stored (or spooled) by the writer's thread."""
        self._queue.put(event)

    @property
    def waiting(self) -> int:
        """Events not in the database yet: queued, and spooled."""
        return self._queue.qsize() + self.spool.depth

    def close(self, timeout_s: float = 60.0) -> None:
        """Store or spool everything submitted so far, then stop the thread and release the spool."""
        self._closing.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():  # still replaying a long outage: the spool stays for the next run
            warn(
                f"{self.store.shown} did not take the last events in {timeout_s:g} s: {self.spool.depth} "
                f"spooled ones stay in {self.spool.path} for the next run, {self._queue.qsize()} queued ones "
                "are lost"
            )
            return
        self.spool.close()
        self.store.close()
        if self.spool.depth:
            warn(
                f"{self.spool.depth} events could not reach {self.store.shown}: kept in "
                f"{self.spool.path}, replayed by the next run"
            )

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug, or a disk that cannot take the spool: say so, never silently
            traceback.print_exc()
            warn(f"the event writer stopped: {self._queue.qsize()} events and those after them are not stored")

    def _loop(self) -> None:
        if not self.store.ready:
            self._reachable()  # says now, not at the first event, that the database is away
        taken = self.spool.take_over()
        if taken:
            print(f"Replaying {taken} events left by an earlier run", file=sys.stderr)
        while True:
            closing = self._closing.is_set()  # read first: what is queued after it is still taken below
            events = self._take()
            if events:
                self._write(events)
            if self.spool.depth and time.monotonic() >= self._retry_at:
                self._replay()
            if self.online and not closing:
                self._chores()
            if closing and self._queue.empty():
                return

    def _take(self) -> list[Event]:
        try:
            events = [self._queue.get(timeout=TAKE_S)]
        except queue.Empty:
            return []
        while len(events) < self.batch:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return events

    def _write(self, events: list[Event]) -> None:
        """Into the database when it is up and nothing waits before them; else at the end of the spool."""
        if not self.spool.depth and self._reachable():
            try:
                self._insert(events)
                return
            except UNREACHABLE as e:
                self._went_away(e)
        self.spool.append(events)

    def _reachable(self) -> bool:
        """The database is up: it answered last time, or a retry is due and it is migrated now."""
        if self.online:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            if not self.store.ready:
                self.store.open()
        except (*UNREACHABLE, StoreError) as e:
            self._went_away(e)
            return False
        return True

    def _replay(self) -> None:
        if not self._reachable():
            return
        try:
            for chunk in self.spool.chunks(self.batch):
                self._insert(chunk)
        except UNREACHABLE as e:
            self._went_away(e)
            return
        replayed = self.spool.depth
        self.spool.clear()
        print(f"{replayed} spooled events stored in {self.store.shown}", file=sys.stderr)

    def _insert(self, events: list[Event]) -> None:
        try:
            self.store.insert(events)
        except UNREACHABLE:
            raise
        except DBAPIError:  # a bad event spoils its batch: store them one by one, reporting the bad ones
            for e in events:
                try:
                    self.store.insert([e])
                except UNREACHABLE:
                    raise
                except DBAPIError as bad:
                    warn(f"{e.kind} event {e.key} not stored: {_reason(bad)}")
        self.online = True
        if self.on_written is not None:
            self.on_written(events)

    def _went_away(self, e: Exception) -> None:
        if self.online or not self._retry_at:  # say it once per outage
            warn(
                f"{self.store.shown} cannot be reached ({_reason(e)}): events go to {self.spool.path} until it answers"
            )
        self.online = False
        self._retry_at = time.monotonic() + self.retry_s

    def _chores(self) -> None:
        now = time.monotonic()
        for chore in self.chores:
            if now >= chore.due:
                chore.due = now + chore.every_s
                try:
                    chore.run()
                except UNREACHABLE as e:
                    self._went_away(e)
