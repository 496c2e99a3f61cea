"""facemask.events.mqtt.MqttPublisher against a port where no broker listens: the operator hears of it at
once, not only when the run ends, and once, not at every one of paho's retries."""

from __future__ import annotations

import socket
import time

from facemask.events.mqtt import MqttPublisher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_broker_nobody_runs_is_said_at_once_and_once(capsys) -> None:
    publisher = MqttPublisher(f"mqtt://127.0.0.1:{_free_port()}")
    try:
        deadline = time.monotonic() + 10
        said = ""
        while "cannot reach the MQTT broker" not in said and time.monotonic() < deadline:
            time.sleep(0.1)
            said += capsys.readouterr().err
        time.sleep(2.5)  # paho retries after 1 s, then 2 s
        said += capsys.readouterr().err
    finally:
        publisher.close(timeout_s=0.1)
    assert said.count("WARNING: cannot reach the MQTT broker at mqtt://127.0.0.1:") == 1, said
