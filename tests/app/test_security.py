"""A client cannot make the app read a file it names: every endpoint, sent every form of file object a client
can send (plain HTTP, as an attacker would), opens nothing outside Gradio's upload folder and answers with one
message, and the server log gets one line per refusal. A canary folder outside the upload folder is watched
with inotify, so a read by any library (OpenCV's in C too) would show; a relative path into the project is
watched with an audit hook."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import struct
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import httpx
import numpy as np
import pytest
from gradio.utils import get_upload_folder

from facemask.app.uploads import MALFORMED, REFUSED

ROOT = Path(__file__).resolve().parents[2]
RELATIVE = "examples/bus.jpg"  # relative to the server's working folder (the project's, in the tests)
META = {"_type": "gradio.FileData"}
SETTINGS = ["face_masks.pt", 0.3, 0.45, False]
ENDPOINTS = {  # every api_name of app.py, with its other inputs
    "detect_image": lambda f: [f, *SETTINGS, False, False],
    "detect_video": lambda f: [f, *SETTINGS, False],
    "detect_frame": lambda f: [f, *SETTINGS, False, None],
    "detect_stream": lambda f: [f, *SETTINGS, False, None],
    "cameras": lambda f: [f],  # it takes no input: one sent anyway is checked all the same
    "collect_photo": lambda f: [f, "entrance", None],
    "collect_stream": lambda f: [f, False, 5, "entrance", None],
}
_WATCHED: list[list[str]] = []  # while a test watches: where this process's opens of RELATIVE are noted


def _audit(event: str, args: tuple) -> None:
    path = args[0] if event == "open" and _WATCHED and isinstance(args[0], (str, bytes)) else None
    if path is not None and os.path.realpath(os.fsdecode(path)) == str(ROOT / RELATIVE):
        _WATCHED[-1].append(os.fsdecode(path))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one costs a list check while nothing watches


class Opened:
    """Every open of anything in `folder` (any process, thread or library: inotify), and this process's opens
    of ROOT/RELATIVE (audit hook), while in the `with` block; `names` lists them."""

    IN_OPEN = 0x20

    def __init__(self, folder: Path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0 and self.libc.inotify_add_watch(self.fd, bytes(folder), self.IN_OPEN) >= 0
        self.audited: list[str] = []

    def __enter__(self) -> Opened:
        _WATCHED.append(self.audited)
        return self

    def __exit__(self, *_) -> None:
        _WATCHED.remove(self.audited)
        os.close(self.fd)

    def names(self) -> list[str]:
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            data = b""
        found, offset = [], 0
        while offset < len(data):  # struct inotify_event: wd, mask, cookie, len, then the name
            _, _, _, size = struct.unpack_from("iIII", data, offset)
            found.append(data[offset + 16 : offset + 16 + size].rstrip(b"\0").decode() or "(the folder)")
            offset += 16 + size
        return found + self.audited


class Canary(NamedTuple):
    folder: Path  # outside.jpg and outside.mp4, outside the upload folder
    links: Path  # a folder in the upload folder with links to them


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Iterator[Canary]:
    folder = tmp_path_factory.mktemp("canary")
    shutil.copy(ROOT / RELATIVE, folder / "outside.jpg")
    writer = cv2.VideoWriter(str(folder / "outside.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 64))
    for _ in range(3):
        writer.write(np.full((64, 64, 3), 128, np.uint8))
    writer.release()
    links = Path(get_upload_folder()) / f"facemask-test-{uuid.uuid4().hex}"
    links.mkdir(parents=True)
    for name in ("outside.jpg", "outside.mp4"):
        (links / name).symlink_to(folder / name)
    yield Canary(folder, links)
    shutil.rmtree(links)


def file_objects(canary: Canary, app_url: str) -> dict[str, object]:
    """Every form of file object a client can send, each naming a file that is not an upload."""
    photo, video, upload = canary.folder / "outside.jpg", canary.folder / "outside.mp4", get_upload_folder()
    return {
        "absolute, no meta": {"path": str(photo)},
        "absolute, meta": {"path": str(photo), "meta": META},
        "video, no meta": {"path": str(video)},
        "video, meta": {"path": str(video), "meta": META},
        "relative, no meta": {"path": RELATIVE},
        "relative, meta": {"path": RELATIVE, "meta": META},
        "relative with ..": {"path": os.path.relpath(photo), "meta": META},
        "upload folder/..": {"path": os.path.join(upload, os.path.relpath(photo, upload)), "meta": META},
        "symlink out, no meta": {"path": str(canary.links / "outside.jpg")},
        "symlink out, meta": {"path": str(canary.links / "outside.mp4"), "meta": META},
        "URL": {"path": f"{app_url}gradio_api/file={photo}", "meta": META},
        "file URL": {"path": f"file://{photo}"},
        "url, no path": {"url": f"file://{photo}", "meta": META},
        "nested in a list": [{"path": str(photo)}],
        "nested in a value": {"value": {"path": str(video), "meta": META}},
    }


def call(app_url: str, api_name: str, data: list) -> tuple[str, dict]:
    """One request as plain HTTP: Gradio's /call route, then its event stream; the last event and its data."""
    base = f"{app_url}gradio_api/call/{api_name}"
    event_id = httpx.post(base, json={"data": data}, timeout=30).raise_for_status().json()["event_id"]
    lines = httpx.get(f"{base}/{event_id}", timeout=60).text.strip().splitlines()
    return lines[-2].removeprefix("event: "), json.loads(lines[-1].removeprefix("data: "))


@pytest.mark.parametrize("api_name", ENDPOINTS)
def test_no_endpoint_opens_a_file_a_client_names(app_url, canary, capfd, api_name) -> None:
    cases = file_objects(canary, app_url)
    capfd.readouterr()
    with Opened(canary.folder) as opened:
        answers = {case: call(app_url, api_name, ENDPOINTS[api_name](f)) for case, f in cases.items()}
        assert opened.names() == []
    wrong = {case: answer for case, answer in answers.items() if answer[0] != "error" or answer[1]["error"] != REFUSED}
    assert wrong == {}  # each got the one message
    log = capfd.readouterr().err
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if f"refused a request to /{api_name}: " in line]) == len(cases)


def test_gradio_file_route_serves_no_file_outside_uploads(app_url, canary) -> None:
    with Opened(canary.folder) as opened:
        for path in (canary.folder / "outside.jpg", canary.links / "outside.jpg", Path(RELATIVE)):
            assert httpx.get(f"{app_url}gradio_api/file={path}").status_code == 403, path
        assert opened.names() == []


def test_a_malformed_input_is_one_message_and_one_log_line(app_url, canary, capfd) -> None:
    capfd.readouterr()
    with Opened(canary.folder) as opened:
        event, data = call(app_url, "detect_image", ENDPOINTS["detect_image"](str(canary.folder / "outside.jpg")))
        assert (event, data["error"]) == ("error", MALFORMED)  # a bare path: not even a file object
        assert opened.names() == []
    log = capfd.readouterr().err
    assert "Traceback" not in log and log.count("refused a request to /detect_image: malformed input") == 1


def test_uploads_are_still_read(app_url) -> None:
    """What the browser and gradio_client send: an upload, by its path in the upload folder."""
    with (ROOT / RELATIVE).open("rb") as f:
        (path,) = httpx.post(f"{app_url}gradio_api/upload", files={"files": ("bus.jpg", f)}).json()
    event, data = call(app_url, "detect_image", ENDPOINTS["detect_image"]({"path": path, "meta": META}))
    assert event == "complete" and data[2]["faces"] == 2


def test_the_web_page_serves_nothing_outside_its_folder(canary, tmp_path) -> None:
    """The in-browser page's route (app.py mounts web_page.routes() at /web/): links and `..` stay inside."""
    import gradio as gr
    from fastapi.testclient import TestClient
    from gradio.routes import App

    from facemask.app.web_page import routes

    (tmp_path / "index.html").write_text("<p>page</p>")
    (tmp_path / "leak.jpg").symlink_to(canary.folder / "outside.jpg")
    with gr.Blocks() as demo:
        gr.Markdown("page")
    client = TestClient(App.create_app(demo, app_kwargs={"routes": routes(tmp_path)}))
    up = "%2e%2e/" * len(tmp_path.parts)
    with Opened(canary.folder) as opened:
        assert client.get("/web/").status_code == 200
        escapes = [
            f"{up}{str(canary.folder)[1:]}/outside.jpg",
            f"{up.replace('/', '%2f')}etc/passwd",
            f"{canary.folder}/outside.jpg",
        ]
        for url in ["/web/leak.jpg", *(f"/web/{escape}" for escape in escapes)]:
            assert client.get(url).status_code == 404, url
        assert opened.names() == []
