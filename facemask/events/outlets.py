"""Where events go: the event store's writer, MQTT, and the alert rules, whose alerts go to the same
places and to the webhook. Every outlet takes an event without waiting (a queue, or paho's own), so
`emit` costs the pipeline microseconds. A timer thread asks the rules about cameras down once a second."""

from __future__ import annotations

import threading

from facemask.events.alerts import AlertEngine
from facemask.events.event import Event
from facemask.events.mqtt import MqttPublisher
from facemask.events.webhook import WebhookSender
from facemask.events.writer import EventWriter

TICK_S = 1.0


class Outlets:
    def __init__(
        self,
        writer: EventWriter | None = None,
        mqtt: MqttPublisher | None = None,
        webhook: WebhookSender | None = None,
        alerts: AlertEngine | None = None,
        tick_s: float = TICK_S,
    ):
        self.writer, self.mqtt, self.webhook, self.alerts = writer, mqtt, webhook, alerts
        self._stop = threading.Event()
        self._ticker = None
        if alerts is not None and alerts.watches_cameras:
            self._ticker = threading.Thread(target=self._tick, args=(tick_s,), name="alert-timer", daemon=True)
            self._ticker.start()

    def emit(self, event: Event) -> None:
        if self.writer is not None:
            self.writer.submit(event)
        if self.mqtt is not None:
            self.mqtt.send(event)
        if event.kind == "alert":
            if self.webhook is not None:
                self.webhook.send(event)
        elif self.alerts is not None:
            for alert in self.alerts.observe(event):
                self.emit(alert)

    def _tick(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            for alert in self.alerts.tick():
                self.emit(alert)

    def close(self) -> None:
        """Stop the timer, then let each outlet deliver what it holds (the store first: nothing is lost)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        for outlet in (self.writer, self.mqtt, self.webhook):
            if outlet is not None:
                outlet.close()
