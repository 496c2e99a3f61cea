"""Events as every outlet carries them: stable keys, sources without passwords, topic names, ISO times."""

from __future__ import annotations

import pytest

from facemask.errors import FacemaskError
from facemask.events.event import Event, camera_event, make_key, person_event
from facemask.events.mqtt import check_mqtt_url, topic_id, topic_of
from facemask.events.webhook import check_webhook_url
from facemask.files import source_label

ROW = {
    "track_id": 3,
    "first_seen_s": 1.5,
    "last_seen_s": 4.0,
    "frames_seen": 20,
    "verdict": "No Mask",
    "confidence": 0.85,
}


def test_the_same_person_has_the_same_key_whenever_it_is_made() -> None:
    a, b = (person_event("run1", 0, "cam1", "", ROW, 1000.0) for _ in range(2))
    assert a.key == b.key and len(a.key) == 32
    assert person_event("run2", 0, "cam1", "", ROW, 1000.0).key != a.key  # another run
    assert person_event("run1", 1, "cam1", "", ROW, 1000.0).key != a.key  # the source read again
    assert make_key("a", "b") != make_key("ab")


def test_an_event_survives_the_spool_line() -> None:
    event = person_event("run1", 0, "cam1", "door", ROW, 1000.0, "/snaps/x.jpg")
    assert Event.from_json(event.to_json()) == event and event.at == 1004.0
    assert event.message()["first_seen"] == "1970-01-01T00:16:41.500+00:00" and event.message()["kind"] == "person"


def test_stream_passwords_stay_out_of_events_and_topics() -> None:
    url = "rtsp://admin:hunter2@10.0.0.7:554/stream1"
    assert source_label(url) == "rtsp://10.0.0.7:554/stream1" and source_label("videos/door.mp4") == "videos/door.mp4"
    assert topic_id(url) == "10_0_0_7_554_stream1" and topic_id("videos/door.mp4") == "door" and topic_id("0") == "cam0"
    topic, payload, retain = topic_of(camera_event("run", source_label(url), 0, "lost"))
    assert (topic, payload, retain) == ("facemask/10_0_0_7_554_stream1/status", "offline", True)


@pytest.mark.parametrize(
    ("check", "url"),
    [(check_mqtt_url, "mqtt://u:mqttsecret@127.0.0.1:bad"), (check_webhook_url, "ftp://u:mqttsecret@hooks.example/x")],
)
def test_a_bad_outlet_url_is_refused_without_its_password(check, url: str) -> None:
    with pytest.raises(FacemaskError, match="must") as e:
        check(url)
    assert "mqttsecret" not in str(e.value)
