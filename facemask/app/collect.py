"""The app's Collect tab: webcam photos saved into a folder of runs/collect/, for prelabel.py to pre-label,
so that photos of a user's own entrance become training data (photos -> pre-labels -> review -> merge).

The tab writes nowhere else. A collection is a folder directly in COLLECT_DIR, named with letters, digits,
'.', '-' and '_' only (never a path), made and marked by the app (facemask/owned_dirs.py): a folder of that
name the app did not make, or a link, is refused. Photos are numbered JPEGs, each created exclusively, so no
file is ever written over, even when two visitors save into one collection at once. What is saved comes
from the request itself (a frame or an upload, checked by facemask/app/uploads.py); no file is read.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import time
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from facemask.app.errors import UserError
from facemask.app.uploads import MAX_PIXELS, check_pixels
from facemask.owned_dirs import is_ours, mark
from facemask.paths import COLLECT_DIR, PRELABEL_DIR, PROJECT_ROOT

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # a plain folder name: no separator, no leading dot
NUMBERED = re.compile(r"_(\d+)\.jpg$")
MAX_PHOTOS = 10_000  # in COLLECT_DIR altogether: visitors cannot fill the server's disk
JPEG_QUALITY = 95  # photos to label and train on: little loss
STREAM_EVERY_S = 0.5  # the browser sends a webcam frame this often; auto-save keeps one every N seconds


def new_name() -> str:
    """A new collection's default name, one per page load: 'webcam-20250131-093012'."""
    return time.strftime("webcam-%Y%m%d-%H%M%S")


def collection(name: str | None, root: Path) -> Path:
    """The folder of collection `name` in `root`, made (and marked as the app's) when new. A name that is
    not a plain folder name, or names something in `root` the app did not make, is a UserError."""
    name = (name or "").strip()
    if not NAME.fullmatch(name):
        raise UserError(f"Collection name {name[:80]!r}: use letters, digits, '.', '-' and '_' (at most 64), no path")
    folder = root / name
    if folder.is_symlink() or (folder.exists() and not (folder.is_dir() and is_ours(folder))):
        raise UserError(f"{name!r} in {display(root)} is not a collection this app made: choose another name")
    if not folder.exists():
        mark(folder, "collect")
    return folder


def photos(folder: Path) -> list[Path]:
    """The photos of a collection, in the order they were saved."""
    return sorted(folder.glob("*.jpg"))


def jpeg(rgb: np.ndarray) -> bytes:
    """An RGB frame as JPEG bytes; a frame too large (MAX_PIXELS) or not a colour image is a UserError."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise UserError("That photo is not an RGB image")
    check_pixels(rgb.shape[1], rgb.shape[0], MAX_PIXELS)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def save_photo(rgb: np.ndarray, folder: Path) -> Path:
    """Write `rgb` into `folder` as its next numbered JPEG (<collection>_0001.jpg, ...), never over a file:
    each is created exclusively and, when another request took that number first, the next one is tried.
    A full collection root (MAX_PHOTOS) or a failed write is a UserError; a half-written file is removed."""
    data = jpeg(rgb)
    if sum(1 for _ in folder.parent.glob("*/*.jpg")) >= MAX_PHOTOS:
        raise UserError(
            f"{display(folder.parent)} holds {MAX_PHOTOS:,} photos, as many as the app keeps: "
            "pre-label and move them first"
        )
    numbers = [int(m.group(1)) for p in photos(folder) if (m := NUMBERED.search(p.name))]
    number = max(numbers, default=0) + 1
    while not _create(folder / f"{folder.name}_{number:04d}.jpg", data):
        number += 1  # taken meanwhile by another request
    return folder / f"{folder.name}_{number:04d}.jpg"


def _create(path: Path, data: bytes) -> bool:
    """Write the new file `path`; False when it exists (it is left as it is). A failed write is a UserError
    and leaves no half-written photo."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # exclusive: never over a file
    except FileExistsError:
        return False
    except OSError as e:
        raise _unsaved(path, e) from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as e:
        path.unlink(missing_ok=True)
        raise _unsaved(path, e) from None
    return True


def _unsaved(path: Path, e: OSError) -> UserError:
    return UserError(f"Could not save the photo in {display(path.parent)}: {e.strerror or e}")


def display(path: Path) -> str:
    """A path as the user types it: relative to the project (where prelabel.py is run from) when inside it."""
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def next_command(folder: Path) -> str:
    """The command that pre-labels the collection for Label Studio."""
    args = ["--source", display(folder), "--format", "labelstudio", "--out", display(PRELABEL_DIR / folder.name)]
    return shlex.join(["python", "prelabel.py", *args])


def status(folder: Path, saved: Path) -> str:
    """The counter, the folder and what to run next, as Markdown."""
    count = len(photos(folder))
    return (
        f"### {count} photo{'s' if count != 1 else ''} in `{display(folder)}`\nSaved `{saved.name}`. "
        f"To pre-label them, run in the project folder:\n```\n{next_command(folder)}\n```"
    )


def store(frame: np.ndarray | None, name: str) -> str:
    """Save one frame into collection `name` (in COLLECT_DIR, read at each call); the status to show."""
    if frame is None:
        raise UserError("No photo yet: start the webcam (the button under the picture) first, or send a photo")
    folder = collection(name, COLLECT_DIR)
    return status(folder, save_photo(frame, folder))


def save(frame: np.ndarray | None, name: str, state: dict | None) -> tuple[str, dict]:
    """'Save photo' and /collect_photo: the status, and the session's state with the time of this save
    (auto-save counts from it). What is refused is an error message."""
    try:
        shown = store(frame, name)
    except UserError as e:
        raise gr.Error(str(e), print_exception=False) from None
    return shown, {**(state or {}), "saved_at": time.monotonic()}


def watch(frame: np.ndarray | None, auto: bool, every_s: float, name: str, state: dict | None):
    """Each webcam frame streamed: kept in the session's state for 'Save photo', and with auto-save on,
    saved once `every_s` seconds have passed since the last save. A refused save unticks auto-save and says
    why in the status, once (an error raised in a stream would repeat every frame)."""
    state = {**(state or {}), "frame": frame}
    if not auto or frame is None or time.monotonic() - state.get("saved_at", -np.inf) < every_s:
        return gr.skip(), state, gr.skip()
    try:
        shown = store(frame, name)
    except UserError as e:
        return f"**Auto-save stopped:** {e}", state, False
    return shown, {**state, "saved_at": time.monotonic()}, gr.skip()


def save_latest(name: str, state: dict | None) -> tuple[str, dict]:
    """'Save photo': the webcam's latest frame."""
    return save((state or {}).get("frame"), name, state)


def collect_tab(demo: gr.Blocks) -> None:
    """The Collect tab, built inside app.py's `demo`. Its endpoint /collect_photo saves a photo sent with
    the request (gradio_client: handle_file(path)) into the collection named."""
    with gr.Tab("Collect"):
        gr.Markdown(
            "Photos of your own place for training: start the webcam, then save photos by hand or every "
            "few seconds. They go to a new folder under `runs/collect/`, ready for `prelabel.py`."
        )
        with gr.Row():
            cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam", elem_id="collect-cam")
            with gr.Column():
                name = gr.Textbox(label="Collection (its folder in runs/collect/)", elem_id="collect-name")
                button = gr.Button("Save photo", variant="primary", elem_id="collect-save")
                auto = gr.Checkbox(False, label="Auto-save", elem_id="collect-auto")
                every = gr.Slider(1, 60, value=5, step=1, label="Auto-save every N seconds")
        state = gr.State({})
        shown = gr.Markdown("No photo saved yet.", elem_id="collect-status")
    events = {"concurrency_id": "collect", "concurrency_limit": 4, "show_progress": "hidden"}  # quick writes
    demo.load(new_name, None, name, api_visibility="private")  # a new collection per page load
    cam.stream(
        watch,
        [cam, auto, every, name, state],
        [shown, state, auto],
        stream_every=STREAM_EVERY_S,
        api_name="collect_stream",
        api_visibility="private",
        **events,
    )
    button.click(
        save_latest, [name, state], [shown, state], api_name="collect_save", api_visibility="private", **events
    )
    # The same save for API clients, with the photo in the request (gradio_client cannot stream).
    gr.Button(visible=False).click(save, [cam, name, state], [shown, state], api_name="collect_photo", **events)
