"""Events on MQTT (paho-mqtt), in the topics Home Assistant and other home or building systems read:

    facemask/<source>/people      one message per settled person (JSON, QoS 1)
    facemask/<source>/alerts      each alert (JSON, QoS 1)
    facemask/<source>/compliance  each interval's tally (JSON, retained: a sensor's state topic)
    facemask/<source>/status      "online" / "offline" (retained: an availability topic)
    facemask/status               "online" while facemask is connected; the broker says "offline" if it dies

<source> is the source's name as its files have it, as one topic level (topic_id; a stream's host, path and
query). paho's own thread keeps the connection, reconnects, and holds messages (QoS 1)
while the broker is away, so publishing never waits.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt

from facemask.errors import FacemaskError, warn
from facemask.events.event import DOWN, Event, new_run_id
from facemask.files import slug, source_label
from facemask.inference.streams import source_name

PREFIX = "facemask"
QUEUED_MAX = 100_000  # messages held while the broker is away; older ones are dropped past it


class MqttError(FacemaskError, ValueError):
    """An --mqtt URL that cannot be used."""


def topic_id(source: str) -> str:
    """A source as one topic level: its name as its files have it (a file's stem, a stream's host and path, a
    webcam's index: facemask.inference.streams.source_name)."""
    return slug(source_name(source))


def topic_of(event: Event) -> tuple[str, str, bool]:
    """Topic, payload and retain flag of an event."""
    base = f"{PREFIX}/{topic_id(event.source)}"
    if event.kind == "camera":
        return f"{base}/status", "offline" if event.row["status"] in (*DOWN, "ended") else "online", True
    leaf = {"person": "people", "alert": "alerts", "interval": "compliance"}[event.kind]
    return f"{base}/{leaf}", json.dumps(event.message()), event.kind == "interval"


def check_mqtt_url(url: str) -> SplitResult:
    """mqtt://[user:password@]host[:port]; MqttError for anything else."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme != "mqtt" or not parts.hostname:
        raise MqttError(f"--mqtt must look like mqtt://host:1883, not {source_label(url)!r}")
    return parts


class MqttPublisher:
    def __init__(self, url: str, client_id: str | None = None):
        """`url`: mqtt://[user:password@]host[:port] (port 1883 by default)."""
        parts = check_mqtt_url(url)
        self.shown = f"mqtt://{parts.hostname}:{parts.port or 1883}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"facemask-{new_run_id()}")
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self.client.max_queued_messages_set(QUEUED_MAX)
        self.client.will_set(f"{PREFIX}/status", "offline", qos=1, retain=True)
        self.client.on_connect, self.client.on_publish = self._connected, self._acknowledged
        self.client.on_connect_fail = self._unreachable
        self._said = ""  # the last problem said: each is said once until the broker takes the connection
        self.client.reconnect_delay_set(1, 30)
        self._sent: set[int] = set()  # message ids published, and those the broker acknowledged
        self._acked: set[int] = set()
        self._lock = threading.Lock()  # never held while calling paho, which calls back holding its own locks
        self.client.connect_async(parts.hostname, parts.port or 1883, keepalive=30)
        self.client.loop_start()

    def _connected(self, client: mqtt.Client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            self._say(f"{self.shown} refused the connection ({reason}); retrying, messages wait for it")
        else:
            self._said = ""
            client.publish(f"{PREFIX}/status", "online", qos=1, retain=True)

    def _unreachable(self, _client, _userdata) -> None:
        """No broker answers (a wrong port, a broker down): said at once, not only at the end of the run."""
        self._say(f"cannot reach the MQTT broker at {self.shown}; retrying, messages wait for it")

    def _say(self, problem: str) -> None:
        """Warn of `problem` once: paho retries every 30 s at most, for as long as the run lasts."""
        if problem != self._said:
            self._said = problem
            warn(problem)

    def _acknowledged(self, _client, _userdata, mid: int, _reason, _properties) -> None:
        with self._lock:
            self._acked.add(mid)

    @property
    def pending(self) -> int:
        """Messages the broker has not acknowledged yet."""
        with self._lock:
            done = self._sent & self._acked
            self._sent -= done
            self._acked -= done
            return len(self._sent)

    def send(self, event: Event) -> None:
        """Publish an event (never waits: paho sends it, now or once connected)."""
        topic, payload, retain = topic_of(event)
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._lock:
            self._sent.add(info.mid)

    def close(self, timeout_s: float = 5.0) -> None:
        """Wait up to `timeout_s` for what was published to reach the broker, then say offline and disconnect."""
        deadline = time.monotonic() + timeout_s
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.pending:
            warn(f"{self.pending} MQTT messages not delivered to {self.shown}")
        if self.client.is_connected():
            self.client.publish(f"{PREFIX}/status", "offline", qos=1, retain=True).wait_for_publish(1.0)
        self.client.disconnect()
        self.client.loop_stop()
