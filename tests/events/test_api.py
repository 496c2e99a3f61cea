"""The REST API and /metrics, through FastAPI's TestClient over a real SQLite store: filters, paging,
CSV, the OpenAPI schema, the bearer token, and a 503 while the database is away."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from facemask.events import metrics
from facemask.events.api import events_router
from facemask.events.event import alert_event, camera_event, person_event
from facemask.events.metrics import metrics_router
from facemask.events.store import EventStore
from tests.services import free_port

T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z


def seeded(tmp_path: Path) -> EventStore:
    store = EventStore(f"sqlite:///{tmp_path / 'events.db'}").open()
    people = [
        person_event(
            "run",
            0,
            f"cam{1 + i % 2}",
            "door" if i % 3 == 0 else "",
            {
                "track_id": i,
                "first_seen_s": 60.0 * i,
                "last_seen_s": 60.0 * i + 5,
                "frames_seen": 10,
                "verdict": "No Mask" if i % 4 == 0 else "Mask",
                "confidence": 0.8,
            },
            T0,
        )
        for i in range(12)
    ]
    cameras = [camera_event("run", "cam1", 0, "opened", at=T0), camera_event("run", "cam1", 1, "lost", at=T0 + 9)]
    alert = alert_event("run", "low", "unmasked_share", "cam1", "", T0 + 100, 0.6, "cam1: 60% unmasked")
    store.insert([*people, *cameras, alert])
    return store


def client(store: EventStore) -> TestClient:
    app = FastAPI()
    app.include_router(events_router(store))
    app.include_router(metrics_router())
    return TestClient(app)


@pytest.fixture
def api(tmp_path: Path, monkeypatch) -> TestClient:
    monkeypatch.delenv("FACEMASK_API_TOKEN", raising=False)
    return client(seeded(tmp_path))


def test_people_are_filtered_and_paged(api: TestClient) -> None:
    page = api.get("/api/v1/people", params={"source": "cam1", "limit": 2, "offset": 1}).json()
    assert page["total"] == 6 and page["limit"] == 2 and [p["track_id"] for p in page["items"]] == [2, 4]
    since, until = "2026-05-28T20:28:40Z", "2026-05-28T20:32:40+00:00"  # T0 + 2 min, T0 + 6 min
    timed = api.get("/api/v1/people", params={"since": since, "until": until}).json()
    assert [p["track_id"] for p in timed["items"]] == [2, 3, 4, 5] and timed["items"][0]["first_seen"].startswith(
        "2026-05-28T20:28:40"
    )
    assert api.get("/api/v1/people", params={"zone": "door"}).json()["total"] == 4
    assert api.get("/api/v1/people", params={"limit": 5000}).status_code == 422


def test_every_kind_has_its_route_and_csv(api: TestClient) -> None:
    assert [c["status"] for c in api.get("/api/v1/cameras").json()["items"]] == ["opened", "lost"]
    assert api.get("/api/v1/alerts").json()["items"][0]["message"] == "cam1: 60% unmasked"
    assert api.get("/api/v1/intervals").json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
    answer = api.get("/api/v1/people", params={"format": "csv", "source": "cam2"})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 6 and rows[0]["source"] == "cam2" and rows[0]["first_seen"].startswith("2026-05-28T20:27:40")


def test_the_openapi_schema_documents_the_routes(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert {"/api/v1/people", "/api/v1/intervals", "/api/v1/cameras", "/api/v1/alerts"} <= set(schema["paths"])
    camera_params = {p["name"] for p in schema["paths"]["/api/v1/cameras"]["get"]["parameters"]}
    assert {"source", "since", "until", "limit", "offset", "format"} <= camera_params and "zone" not in camera_params
    assert "Person" in schema["components"]["schemas"] and "HTTPBearer" in schema["components"]["securitySchemes"]


def test_with_a_token_set_every_route_asks_for_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FACEMASK_API_TOKEN", "s3cret-token")
    api = client(seeded(tmp_path))
    for path in ("/api/v1/people", "/api/v1/alerts", "/metrics"):
        assert api.get(path).status_code == 401
        assert api.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = api.get(path, headers={"Authorization": "Bearer s3cret-token"})
        assert answer.status_code == 200 and "s3cret-token" not in answer.text
    assert api.get("/api/v1/people").headers["www-authenticate"] == "Bearer"


def test_metrics_are_in_prometheus_format(api: TestClient) -> None:
    meter = metrics.FrameMeter("api-test-cam")
    for index in (0, 1, 2, 6):  # frames 3-5 of the live source were never processed
        meter.frame(index, 1, True, 12.5)
    metrics.count_person("api-test-cam", "No Mask", 0.75)
    text = api.get("/metrics").text
    assert 'facemask_frames_total{source="api-test-cam"} 4.0' in text
    assert 'facemask_dropped_frames_total{source="api-test-cam"} 3.0' in text
    assert 'facemask_people_total{source="api-test-cam",verdict="No Mask"} 1.0' in text
    assert 'facemask_compliance_rate{source="api-test-cam"} 0.75' in text
    assert (
        'facemask_detector_ms_bucket{le="20.0",source="api-test-cam"} 4.0' in text and "facemask_events_waiting" in text
    )


def test_an_unreachable_database_is_a_503(monkeypatch) -> None:
    monkeypatch.delenv("FACEMASK_API_TOKEN", raising=False)
    api = client(EventStore(f"postgresql://postgres@127.0.0.1:{free_port()}/facemask", connect_timeout_s=1))
    answer = api.get("/api/v1/people")
    assert answer.status_code == 503 and "cannot be reached" in answer.json()["detail"]


def test_the_standalone_api_serves_its_docs_without_the_internet(tmp_path: Path, monkeypatch) -> None:
    from facemask.events.api import standalone_app

    monkeypatch.setenv("FACEMASK_DB", str(seeded(tmp_path).engine.url))
    client = TestClient(standalone_app())
    assert client.get("/api/v1/people").json()["total"] > 0 and client.get("/metrics").status_code == 200
    page = client.get("/docs").text
    assert "cdn." not in page and "/docs/assets/swagger-ui-bundle.js" in page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert "/api/v1/people" in client.get("/openapi.json").json()["paths"]
