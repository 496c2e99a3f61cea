"""The app's Cameras tab: one background pipeline over a .streams file, read by every viewer; a broken
camera is shown as such while the others are counted."""

from __future__ import annotations

import time

import pytest

from facemask.app.cameras import CameraWall, camera_wall
from facemask.app.errors import ServeError
from facemask.app.service import available_models
from facemask.inference import streams
from facemask.inference.detector import Detector
from facemask.paths import EXAMPLES_DIR
from tests.inference.test_streams import cameras, readers  # noqa: F401  (fixtures)
from tests.inference.test_tracking import video  # noqa: F401  (the colour detector)


def test_the_wall_counts_each_camera_and_shows_the_broken_one(cameras, trained_run, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(streams, "RETRY_S", 0.1)
    wall = CameraWall(cameras, Detector(trained_run / "weights" / "best.pt")).start()
    deadline = time.monotonic() + 60
    while wall.running and time.monotonic() < deadline:
        time.sleep(0.2)
    cells, totals = wall.snapshot()
    assert not wall.running and not readers()
    captions = [caption for _, caption in cells]
    assert captions == [
        "entrance: 3 people, 2 masked (67%), 1 unmasked",
        "side: 2 people, 1 masked (50%), 1 unmasked",
        "broken: unreadable video (given up after 3 tries)",
    ]
    assert all(image.ndim == 3 and image.shape[2] == 3 for image, _ in cells)  # the broken one: a placeholder
    assert (totals["people"], totals["masked"], totals["unmasked"], totals["compliance_rate"]) == (5, 3, 2, 0.6)
    assert totals["cameras"]["entrance"]["frames"] == 80 and totals["cameras"]["broken"]["frames"] == 0


def test_cameras_whose_files_share_a_stem_get_a_tile_and_a_row_each(tmp_path, trained_run) -> None:
    for folder in ("door", "hall"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "clip.mp4").write_bytes(b"")
    listing = tmp_path / "cams.streams"
    listing.write_text("door/clip.mp4\nhall/clip.mp4\n")
    wall = CameraWall(listing, Detector(trained_run / "weights" / "best.pt"))  # not started: placeholders
    cells, totals = wall.snapshot()
    assert [caption for _, caption in cells] == [
        "clip: waiting for the first frame",
        "clip_2: waiting for the first frame",
    ]
    assert set(totals["cameras"]) == {"clip", "clip_2"}


def test_the_cameras_model_is_one_of_weights_and_a_wrong_name_says_which(tmp_path) -> None:
    """app.py --weights: the int8 export keeps more cameras up on a CPU; a name not in weights/ lists those that are."""
    (tmp_path / "cams.streams").write_text(str(EXAMPLES_DIR / "bus.jpg") + "\n")
    with pytest.raises(ServeError, match=r"--weights nope\.pt is not a model in weights/: one of .*face_masks\.pt"):
        camera_wall(str(tmp_path / "cams.streams"), "nope.pt")
    assert "face_masks_int8_openvino_model" in available_models()
