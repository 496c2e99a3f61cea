"""Alerts to a webhook (`--webhook URL`): each alert a JSON POST, from a background thread, so a slow or
dead server never holds up detection. A POST that fails (no answer, a refused connection, a 5xx, 408
or 429) is tried again after a wait that doubles up to `max_backoff_s`, for as long as the run lasts and
`grace_s` after it; a 4xx the server means (400, 404, ...) is reported and not retried. Alerts are
delivered in the order they fired; every alert is also in the event store, delivered or not.
"""

from __future__ import annotations

import queue
import threading
import time
from urllib.parse import urlsplit

import requests

from facemask.errors import FacemaskError, warn
from facemask.events.event import Event
from facemask.files import source_label

RETRIED = {408, 425, 429}  # client errors worth trying again; every 5xx is too


class WebhookError(FacemaskError, ValueError):
    """A --webhook URL that cannot be used."""


def check_webhook_url(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise WebhookError(f"--webhook must be an http:// or https:// URL, not {source_label(url)!r}")
    return url


class WebhookSender:
    def __init__(
        self,
        url: str,
        timeout_s: float = 5.0,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        grace_s: float = 10.0,
        stored: bool = False,
    ):
        """`stored`: the alerts also go to an event store (said when some cannot be delivered)."""
        self.stored = stored
        self.url, self.timeout_s, self.backoff_s, self.max_backoff_s, self.grace_s = (
            check_webhook_url(url),
            timeout_s,
            backoff_s,
            max_backoff_s,
            grace_s,
        )
        self.delivered = self.undelivered = 0
        self._failing = False  # said once when POSTs start failing, again after one is taken
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._deadline: float | None = None  # set at close: retries stop then
        self._closed = threading.Event()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def send(self, event: Event) -> None:
        """Never waits: the alert is posted by the sender's thread."""
        self._queue.put(event)

    def close(self) -> None:
        """Deliver what is waiting within `grace_s`, then stop; what could not be delivered is reported."""
        self._deadline = time.monotonic() + self.grace_s
        self._closed.set()
        self._queue.put(None)
        self._thread.join(self.grace_s + self.timeout_s + 1)
        if self._thread.is_alive():  # a POST still hanging: what waits behind it is not delivered either
            self.undelivered = 1 + self._left()
        if self.undelivered:
            where = "they are in the event store" if self.stored else "and not stored: --db keeps every alert"
            alerts = "1 alert" if self.undelivered == 1 else f"{self.undelivered} alerts"
            warn(f"{alerts} not delivered to the webhook ({where})")
        self._session.close()

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            if not self._deliver(event):
                self.undelivered = 1 + self._left()
                return

    def _left(self) -> int:
        """Take the alerts still waiting off the queue, and count them."""
        left = 0
        while not self._queue.empty():
            left += self._queue.get_nowait() is not None
        return left

    def _deliver(self, event: Event) -> bool:
        """POST until the server takes it (True), refuses it for good (True, reported), or time is up (False)."""
        delay = self.backoff_s
        while True:
            try:
                answer = self._session.post(self.url, json=event.message(), timeout=self.timeout_s)
                if answer.ok:
                    self.delivered, self._failing = self.delivered + 1, False
                    return True
                if answer.status_code < 500 and answer.status_code not in RETRIED:
                    what = f"{event.row.get('rule', event.kind)} on {event.row.get('source', '')}"
                    warn(f"the webhook refused the alert {what} (HTTP {answer.status_code}); not retried")
                    return True
                why = f"HTTP {answer.status_code}"
            except requests.RequestException as e:
                why = type(e).__name__
            if not self._failing:  # at once, not only as undelivered alerts when the run ends
                self._failing = True
                warn(f"the webhook does not take alerts ({why}); retrying, they wait for it")
            if not self._wait(delay):
                return False
            delay = min(delay * 2, self.max_backoff_s)

    def _wait(self, seconds: float) -> bool:
        """Sleep before a retry (cut short at close); False once the grace after close is over."""
        if self._deadline is None:
            self._closed.wait(seconds)
        else:
            time.sleep(max(0.0, min(seconds, self._deadline - time.monotonic())))
        return self._deadline is None or time.monotonic() < self._deadline
