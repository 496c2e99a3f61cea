"""The Collect tab (facemask/app/collect.py): photos saved as numbered JPEGs into a collection folder the app
made, never over a file and never outside COLLECT_DIR; every refusal said; and the tab through the API, up
to the prelabel.py command it tells the user to run next, run as given."""

from __future__ import annotations

import json
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from facemask.app import collect
from facemask.app.errors import UserError
from facemask.owned_dirs import is_ours
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bus.jpg"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """COLLECT_DIR and PRELABEL_DIR in tmp_path (the served app runs in this process and reads them per call)."""
    monkeypatch.setattr(collect, "COLLECT_DIR", tmp_path / "collect")
    monkeypatch.setattr(collect, "PRELABEL_DIR", tmp_path / "prelabel")
    return tmp_path / "collect"


def frame(value: int = 128, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def test_photos_are_numbered_jpegs_and_no_file_is_written_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = collect.collection("entrance", tmp_path)
    assert is_ours(folder) and folder == tmp_path / "entrance"
    first = collect.save_photo(frame(10), folder)
    (folder / "entrance_0002.jpg").write_bytes(b"the user's own")  # a file the next number would have taken
    second = collect.save_photo(frame(200), folder)
    assert (first.name, second.name) == ("entrance_0001.jpg", "entrance_0003.jpg")
    assert (folder / "entrance_0002.jpg").read_bytes() == b"the user's own"
    with Image.open(second) as photo:
        assert (photo.format, photo.size) == ("JPEG", (64, 48))
        assert abs(int(np.asarray(photo).mean()) - 200) <= 2
    assert collect.collection("entrance", tmp_path) == folder  # saving on later goes on numbering
    before = {p: p.read_bytes() for p in folder.glob("*.jpg")}
    listing = collect.photos
    monkeypatch.setattr(collect, "photos", lambda folder: [])  # as if the files came after the listing
    assert collect.save_photo(frame(), folder).name == "entrance_0004.jpg"
    assert all(p.read_bytes() == data for p, data in before.items())
    monkeypatch.setattr(collect, "photos", listing)
    with ThreadPoolExecutor(max_workers=4) as pool:  # visitors saving at the same moment each get a file
        saved = list(pool.map(lambda v: collect.save_photo(frame(v), folder), range(8)))
    assert len(set(saved)) == 8 and len(collect.photos(folder)) == 12


@pytest.mark.parametrize("name", ["", "../outside", "a/b", ".hidden", "x" * 65, "..", "/tmp/x", "tab\tname"])
def test_a_name_that_is_not_a_plain_folder_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError, match="use letters, digits"):
        collect.collection(name, tmp_path / "collect")
    assert not any(tmp_path.iterdir())  # nothing made, inside or out


def test_a_folder_the_app_did_not_make_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    (tmp_path / "afile").write_text("keep")
    (tmp_path / "link").symlink_to(collect.collection("ours", tmp_path))
    for name in ("mine", "afile", "link"):
        with pytest.raises(UserError, match="not a collection this app made"):
            collect.collection(name, tmp_path)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_bad_frames_and_a_full_folder_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = collect.collection("entrance", tmp_path)
    with pytest.raises(UserError, match="not an RGB image"):
        collect.save_photo(np.zeros((8, 8), np.uint8), folder)
    monkeypatch.setattr(collect, "MAX_PIXELS", 100)
    with pytest.raises(UserError, match="Image too large: 64x48"):
        collect.save_photo(frame(), folder)
    monkeypatch.setattr(collect, "MAX_PIXELS", 10**6)
    monkeypatch.setattr(collect, "MAX_PHOTOS", 2)
    collect.save_photo(frame(), folder), collect.save_photo(frame(), collect.collection("other", tmp_path))
    with pytest.raises(UserError, match="holds 2 photos"):  # counted over every collection
        collect.save_photo(frame(), folder)
    assert len(list(tmp_path.glob("*/*.jpg"))) == 2


def test_auto_save_keeps_a_frame_every_n_seconds_and_stops_on_a_refusal(root: Path) -> None:
    shown, state, auto = collect.watch(frame(), False, 1, "door", None)
    assert (shown, auto) == (gr.skip(), gr.skip()) and state["frame"] is not None and not root.exists()
    shown, state, _ = collect.watch(frame(), True, 3600, "door", state)  # nothing saved yet: saved now
    assert shown.startswith("### 1 photo in ")
    assert collect.watch(frame(), True, 3600, "door", state)[0] == gr.skip()  # within the hour: not again
    shown, state = collect.save_latest("door", state)  # 'Save photo': the latest frame, whenever
    assert shown.startswith("### 2 photos in ") and len(collect.photos(root / "door")) == 2
    shown, _, auto = collect.watch(frame(), True, 0, "../door", state)
    assert shown.startswith("**Auto-save stopped:** Collection name '../door'") and auto is False
    with pytest.raises(gr.Error, match="No photo yet"):
        collect.save_latest("door", {})


def test_the_tab_saves_a_sent_photo_and_its_command_prelabels_it(app_url: str, root: Path) -> None:
    client = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="use letters, digits"):
        client.predict(handle_file(str(EXAMPLE)), "../../etc", api_name="/collect_photo")
    assert not root.exists()
    shown = client.predict(handle_file(str(EXAMPLE)), "entrance", api_name="/collect_photo")
    assert shown.startswith(f"### 1 photo in `{root / 'entrance'}`")
    with Image.open(root / "entrance" / "entrance_0001.jpg") as photo, Image.open(EXAMPLE) as sent:
        assert photo.size == sent.size
    command = shlex.split(shown.split("```")[1])
    assert command[:2] == ["python", "prelabel.py"]
    result = run_script(ROOT / command[1], command[2:], ROOT)  # as shown: run in the project folder
    assert result.code == 0, result.stderr
    tasks = json.loads((root.parent / "prelabel" / "entrance" / "tasks.json").read_text())
    assert len(tasks) == 1 and tasks[0]["predictions"][0]["result"]  # the bus's faces, pre-labelled
