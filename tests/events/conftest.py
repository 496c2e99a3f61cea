"""The event tests' MQTT listener, which records what the broker delivers. The servers themselves (one real
PostgreSQL and one real Mosquitto per test process) are tests/services.py's fixtures, shared with the app's
and the benchmarks' tests."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest

from tests.services import Mosquitto


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> dict:
        return json.loads(self.payload)


@dataclass
class Listener:
    """Every message the broker delivers on facemask/#, as a subscriber (Home Assistant, say) gets it."""

    client: mqtt.Client
    messages: list[Message] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, leaf: str, sources: Iterable[str] | None = None) -> list[Message]:
        """The messages on topics ending in /leaf; with `sources`, only those cameras' and facemask's own
        (facemask/leaf): the session's one broker also keeps what other tests' cameras retained."""
        wanted = None if sources is None else {f"facemask/{s}/{leaf}" for s in sources} | {f"facemask/{leaf}"}
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(f"/{leaf}") and (wanted is None or m.topic in wanted)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait(self, done: Callable[[Listener], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # and a little longer: a message sent twice would arrive by now


def subscribe(mosquitto: Mosquitto) -> Listener:
    """A new subscriber to facemask/#: it gets the retained messages first, then what is published."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    result = Listener(client)
    subscribed = threading.Event()

    def received(_c, _u, message: mqtt.MQTTMessage) -> None:
        with result._lock:
            result.messages.append(Message(message.topic, message.payload, bool(message.retain)))

    client.on_message = received
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_connect = lambda c, *_: c.subscribe("facemask/#", qos=1)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    assert subscribed.wait(10), "the test's MQTT listener could not subscribe"
    return result


@pytest.fixture
def listener(mosquitto: Mosquitto) -> Iterator[Listener]:
    result = subscribe(mosquitto)
    yield result
    result.close()
