"""Alerts: a clip in which the unmasked share rises fires exactly one webhook POST and one MQTT alert
per cooldown window; a webhook server that does not answer neither slows the pipeline's sinks nor loses
the alert; a camera down too long alerts from the timer; a rules file with a mistake is one error."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.simulated_cameras import ColourDetector, camera_frames, people_factory
from facemask.events.alerts import AlertEngine
from facemask.events.event import camera_event
from facemask.events.options import EventOptions, event_sink
from facemask.events.rules import RulesError, load_rules, unmatched
from facemask.events.store import EventStore
from facemask.inference.pipeline import BaseSink, Pipeline
from tests.events.conftest import Listener
from tests.services import Mosquitto, free_port

RULES = """
rules:
  - name: low-compliance
    unmasked_share: 0.5
    window_s: 15
    min_people: 3
    cooldown_s: 20
"""


def rising(t: float) -> float:
    """Everyone masked for the first 20 s of the clip, then most people unmasked."""
    return 0.0 if t < 20 else 0.85


class Hook(ThreadingHTTPServer):
    """A webhook receiver on a loopback port: every JSON body POSTed to it."""

    def __init__(self, port: int = 0):
        self.posts: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"


class Timed(BaseSink):
    """Another sink's calls, timed; its close is left to the test."""

    def __init__(self, sink: BaseSink):
        self.sink, self.longest = sink, 0.0

    def write(self, result) -> None:
        start = time.perf_counter()
        self.sink.write(result)
        self.longest = max(self.longest, time.perf_counter() - start)

    def follow(self, source, people) -> None:
        self.sink.follow(source, people)

    def source_done(self, source, people) -> None:
        self.sink.source_done(source, people)


def run_clip(options: EventOptions, tmp_path: Path, sink_wrapper=None):
    options.alerts, options.spool_dir, options.snapshots = write_rules(RULES, tmp_path), tmp_path / "spool", "off"
    sink = event_sink(options)
    wrapped = sink_wrapper(sink) if sink_wrapper else sink
    Pipeline(ColourDetector(), people=people_factory(None, 10.0)).run(camera_frames(1, 60, 10, rising), [wrapped])
    return sink, wrapped


def test_a_rising_unmasked_share_alerts_once_per_cooldown(
    tmp_path: Path, mosquitto: Mosquitto, listener: Listener
) -> None:
    hook, db = Hook(), f"sqlite:///{tmp_path / 'events.db'}"
    run_clip(EventOptions(db=db, mqtt=mosquitto.url, webhook=hook.url), tmp_path)
    store = EventStore(db)
    alerts, _ = store.page("alert")
    origin = store.page("interval")[0][0]["start_at"].timestamp()  # the clip's second 0
    at = [a["at"].timestamp() - origin for a in alerts]
    assert len(alerts) == 2 and 20 < at[0] < 45 and 20 <= at[1] - at[0] < 26  # the clip is 60 s long
    assert all(a["rule"] == "low-compliance" and a["value"] > 0.5 for a in alerts)
    listener.wait(lambda got: len(got.on("alerts")) >= 2)
    assert sorted(m.json()["key"] for m in listener.on("alerts")) == sorted(a["key"] for a in alerts)
    assert sorted(p["key"] for p in hook.posts) == sorted(a["key"] for a in alerts)  # exactly one POST each
    assert (
        hook.posts[0]["kind"] == "alert"
        and hook.posts[0]["source"] == "cam1"
        and "unmasked" in hook.posts[0]["message"]
    )
    hook.stop()
    store.close()


def test_a_webhook_that_does_not_answer_neither_slows_nor_loses_alerts(tmp_path: Path) -> None:
    port = free_port()
    silent = socket.create_server(("127.0.0.1", port), backlog=64)  # accepts connections, never answers
    options = EventOptions(
        db=f"sqlite:///{tmp_path / 'events.db'}",
        webhook=f"http://127.0.0.1:{port}/alerts",
        webhook_timeout_s=0.5,
        webhook_backoff_s=0.1,
    )
    sink, timed = run_clip(options, tmp_path, Timed)
    assert timed.longest < 0.1  # every write returned at once, though each POST hung until its timeout
    silent.close()
    hook = Hook(port)  # the server is back before the run's grace is over
    sink.close()
    assert len(hook.posts) == 2 and len({p["key"] for p in hook.posts}) == 2
    hook.stop()


def write_rules(text: str, folder: Path) -> Path:
    (folder / "rules.yaml").write_text(text)
    return folder / "rules.yaml"


def test_a_camera_down_too_long_alerts_once_per_cooldown(tmp_path: Path) -> None:
    rules = load_rules(write_rules("rules:\n  - {name: down, camera_down_s: 30, cooldown_s: 60}\n", tmp_path))
    now = [1000.0]
    engine = AlertEngine(rules, "run", clock=lambda: now[0])
    engine.observe(camera_event("run", "cam1", 0, "lost", at=1000.0))
    fired = []
    for t in (1010, 1031, 1040, 1080, 1092):
        now[0] = t
        fired += [(t, a.row["value"]) for a in engine.tick()]
    assert fired == [(1031, 31.0), (1092, 92.0)]  # then once a cooldown
    engine.observe(camera_event("run", "cam1", 1, "opened", at=1100.0))
    now[0] = 2000.0
    assert engine.tick() == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rules: []\n", "needs a list of rules"),
        ("rules:\n  - {name: a, window_s: 3}\n", "needs exactly one of"),
        ("rules:\n  - {name: a, unmasked_share: 25}\n", "a share under 1"),
        ("rules:\n  - {name: a, unmasked_people: 3, colour: red}\n", "unknown key 'colour'"),
        ("rules:\n  - {name: a, camera_down_s: -1}\n", "0 or more"),
        ("rules:\n  - {name: a, camera_down_s: 5}\n  - {name: a, camera_down_s: 9}\n", "two rules are named 'a'"),
    ],
)
def test_a_rules_file_with_a_mistake_is_one_clear_error(text: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=says):
        load_rules(write_rules(text, tmp_path))


def test_a_rule_names_a_source_as_the_user_wrote_it(tmp_path: Path, monkeypatch) -> None:
    """Copied from the .streams file (login and all) or relative to where the user runs: still that source."""
    monkeypatch.chdir(tmp_path)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n  - name: down\n    camera_down_s: 30\n"
        "    sources: [rtsp://guard:secret@10.0.0.7/s1, recordings/car_park.mp4]\n"
    )
    (rule,) = load_rules(rules_file)
    assert rule.applies("rtsp://10.0.0.7/s1") and rule.applies(str(tmp_path / "recordings" / "car_park.mp4"))
    assert rule.applies("rtsp://guard:secret@10.0.0.7/s1") and not rule.applies("rtsp://10.0.0.7/s2")
    assert "secret" not in repr(rule)


def test_rules_that_cannot_fire_in_a_run_are_named(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "rules:\n  - name: door\n    unmasked_people: 3\n    zone: door\n"
        "  - name: hall\n    camera_down_s: 30\n    sources: [rtsp://cam/hall, rtsp://cam/door]\n"
    )
    rules = load_rules(rules_file)
    assert unmatched(rules, ["rtsp://cam/door"], "door") == [
        "alert rule 'hall': 'rtsp://cam/hall' is none of this run's sources, so the rule never fires for it"
    ]
    assert unmatched(rules, ["rtsp://cam/hall", "rtsp://cam/door"], "") == [
        "alert rule 'door' counts zone 'door', and this run's zone is none (--zone): it never fires"
    ]


@pytest.mark.parametrize(
    ("stored", "says"), [(False, "and not stored: --db keeps every alert"), (True, "in the event store")]
)
def test_undelivered_alerts_are_said_with_where_they_still_are(stored: bool, says: str, capsys) -> None:
    from facemask.events.webhook import WebhookSender

    sender = WebhookSender(f"http://127.0.0.1:{free_port()}/a", 0.2, 0.05, grace_s=0.3, stored=stored)  # nobody there
    sender.send(camera_event("run", "rtsp://cam/1", 0, "lost"))
    sender.close()
    err = capsys.readouterr().err
    assert "WARNING: 1 alert not delivered to the webhook" in err and says in err
    # and said at once, when the first POST failed: once, though it was retried
    assert err.count("WARNING: the webhook does not take alerts (ConnectionError); retrying") == 1
