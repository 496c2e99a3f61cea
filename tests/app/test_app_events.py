"""The app with an event store (issue #24): what the Cameras tab and the Video tab (with tracking) settle is
stored, served by the same server's REST API and /metrics, and shown as history by a later run of the app.

app.py runs as a user runs it (tests/scripts.py), with its runs/ folder (database, spool) in the test's
folder instead of the project's; the shipped model watches a short video of examples/bus.jpg."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from facemask.app.history import history
from facemask.events.event import interval_event
from facemask.events.store import EventStore
from tests.app.test_app import EXAMPLE, ROOT, SETTINGS
from tests.conftest import free_port
from tests.scripts import start_script
from tests.waiting import wait_for

TOKEN = "a-long-test-token"
#: app.py with runs/ moved to the test's folder (argv[1]): facemask.events reads it when first imported.
RUN_APP = """import runpy, sys
from pathlib import Path
import facemask.paths
facemask.paths.RUNS_DIR = Path(sys.argv.pop(1))
sys.argv[0] = {app!r}
runpy.run_path({app!r}, run_name="__main__")
"""


@pytest.fixture(scope="module")
def bus_video(tmp_path_factory) -> Path:
    """Eight frames of the bus photo: its two unmasked people, followed."""
    path = tmp_path_factory.mktemp("video") / "bus.mp4"
    frame = np.asarray(Image.open(EXAMPLE).resize((240, 320)))[:, :, ::-1].copy()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (240, 320))
    for _ in range(8):
        writer.write(frame)
    writer.release()
    return path


@contextlib.contextmanager
def served(folder: Path, args: list[str], env: dict[str, str]) -> Iterator[str]:
    """`python app.py args...` on a free port, its runs/ in `folder`, until the block ends (SIGTERM)."""
    script, port = folder / "run_app.py", free_port()
    script.write_text(RUN_APP.format(app=str(ROOT / "app.py")))
    app = start_script(script, [folder / "runs", "--port", str(port), *args], folder, env=env)
    url = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        assert app.poll() is None, (folder / "script.stderr").read_text()
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url, timeout=5).status_code == 200
        return False

    try:
        wait_for(up, "app", 120)
        yield url
    finally:
        app.terminate()
        app.wait(60)
    assert "Traceback" not in (folder / "script.stderr").read_text()


def test_the_app_stores_every_person_serves_them_and_remembers_them(bus_video, tmp_path) -> None:
    (tmp_path / "cams.streams").write_text(f"{bus_video}\n")
    env = {**os.environ, "FACEMASK_API_TOKEN": TOKEN}
    with served(tmp_path, ["--cameras", "cams.streams", "--db", "--snapshots", "off"], env) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

        def rows(path: str, **params) -> list[dict]:
            return api.get(f"/api/v1/{path}", params=params).json()["items"]

        wait_for(lambda: [r for r in rows("cameras") if r["status"] == "ended"], "end of the camera")
        _, wall, _ = Client(url, verbose=False).predict(api_name="/cameras")
        people = rows("people", source=str(bus_video))
        assert len(people) == wall["people"] >= 2 and {p["verdict"] for p in people} >= {"No Mask"}  # each once
        intervals = rows("intervals", source=str(bus_video))
        assert sum(i["people"] for i in intervals) == wall["people"]

        _, _, totals, _ = Client(url, verbose=False).predict(
            handle_file(str(bus_video)), *SETTINGS, True, api_name="/detect_video"
        )
        video = wait_for(lambda: rows("people", source="upload:bus.mp4"), "people of the video")
        assert len(video) == totals["people"]["people"] >= 2 and video[0]["run_id"] != people[0]["run_id"]

        table = api.get("/api/v1/people", params={"format": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        assert len(list(csv.DictReader(io.StringIO(table.text)))) == len(people) + len(video)
        assert httpx.get(f"{url}api/v1/people").status_code == httpx.get(f"{url}metrics").status_code == 401
        metrics = api.get("/metrics").text
        assert f'facemask_frames_total{{source="{bus_video}"}} 8.0' in metrics
        assert 'facemask_frames_total{source="upload:bus.mp4"} 8.0' in metrics
        assert "/api/v1/people" in httpx.get(f"{url}openapi.json").json()["paths"]
        assert "/gradio_api/queue/join" not in httpx.get(f"{url}openapi.json").json()["paths"]
        page = httpx.get(f"{url}docs")
        assert page.status_code == 200 and "cdn." not in page.text  # Swagger UI on a network with no internet
        assert httpx.get(f"{url}docs/assets/swagger-ui-bundle.js").status_code == 200
    assert (tmp_path / "runs" / "facemask.db").is_file()  # --db without a URL: runs/facemask.db

    # A new run of the app (the store named by FACEMASK_DB, as on Spaces): the earlier run's people are there.
    env["FACEMASK_DB"] = f"sqlite:///{tmp_path / 'runs' / 'facemask.db'}"
    with served(tmp_path, [], env) as url:
        chart, days, line = Client(url, verbose=False).predict(api_name="/camera_history")
    seen = {row[1]: row[2] for row in days["data"]}  # camera: people today
    assert seen == {str(bus_video): len(people), "upload:bus.mp4": len(video)}
    assert f"{len(people) + len(video)} people" in line and len(chart["data"]) == 2


def store_with_intervals(url: str, now: datetime) -> EventStore:
    """Two cameras' intervals, sources as stored: the door's every 5 hours over 3 days (twice in the newest
    hour), the yard's once, 2 days ago, and an hour after that, the yard down (no frames), then quiet (frames,
    nobody) and an older row without frames (written before the column was)."""
    store = EventStore(url).open()
    origin = now.timestamp()
    events = [
        interval_event(
            "r1",
            0,
            "rtsp://door/1",
            "",
            {
                "start_s": -3600 * k,
                "end_s": 60 - 3600 * k,
                "frames": 1500,
                "people": 3,
                "masked": 2,
                "unmasked": 1,
                "compliance_rate": 0.667,
            },
            origin,
        )
        for k in range(0, 72, 5)
    ]
    events.append(
        interval_event(
            "r2",
            0,
            "yard",
            "",
            {
                "start_s": -48 * 3600,
                "end_s": 60 - 48 * 3600,
                "frames": 1500,
                "people": 4,
                "masked": 1,
                "unmasked": 3,
                "compliance_rate": 0.25,
            },
            origin,
        )
    )
    same_hour = {"start_s": 60, "end_s": 120, "frames": 1500, "people": 2, "masked": 2, "unmasked": 0}
    events.append(interval_event("r6", 0, "rtsp://door/1", "", same_hour | {"compliance_rate": 1.0}, origin))
    for k, frames in enumerate((0, 1500, None)):
        row = {"start_s": -(47 - k) * 3600, "end_s": 60 - (47 - k) * 3600, "frames": frames, "people": 0}
        row |= {"masked": 0, "unmasked": 0, "compliance_rate": None}
        events.append(interval_event(f"r{3 + k}", 0, "yard", "", row, origin))
    store.insert(events)
    return store


def test_history_is_the_same_from_sqlite_and_postgresql(postgres, tmp_path) -> None:
    now = datetime(2024, 5, 6, 12, 30, tzinfo=timezone.utc)
    sqlite = store_with_intervals(f"sqlite:///{tmp_path / 'events.db'}", now)
    pg = store_with_intervals(postgres.create_database("history"), now)
    names = {"rtsp://user:secret@door/1": "door", "yard": "yard"}  # the wall's sources, as given
    chart, days, line = history(sqlite, names, now)
    assert history(pg, names, now)[1].equals(days) and history(pg, names, now)[0].equals(chart)
    assert list(chart["camera"]) == ["door"] * 10  # the last 48 h, one row an hour
    assert list(chart["people"]) == [3] * 9 + [5] and list(chart["compliance rate"]) == [0.667] * 9 + [0.8]
    assert chart["hour"].min() >= (now - timedelta(hours=48)).astimezone().replace(tzinfo=None)
    assert days["people"].sum() == 15 * 3 + 2 + 4 and line == "History: 51 people over the last 14 days"
    yard = days[days["camera"] == "yard"]
    assert set(yard["compliance rate"]) == {"25%"} and yard["hours down"].sum() == 1  # down, not quiet
    assert days[days["camera"] == "door"]["hours down"].sum() == 0
    assert history(sqlite, {"elsewhere": "x"}, now)[1].empty  # only the wall's cameras
    sqlite.close()
    pg.close()
