"""prepare_data.py --upload-roboflow: the one line said, with nothing sent, without ROBOFLOW_API_KEY or
without the network (sending needs both and a Roboflow project, so it is not run here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facemask.data.download import ROBOFLOW_HOST, reachable
from facemask.data.upload import dataset_items
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]


def upload(dataset: Path, tmp_path: Path, target: str = "my-team/face-masks", **env: str):
    base = {k: v for k, v in os.environ.items() if k != "ROBOFLOW_API_KEY"}
    return run_script(
        ROOT / "prepare_data.py", ["--upload-roboflow", target, "--out", dataset], tmp_path, env={**base, **env}
    )


def test_the_photos_sent_are_the_dataset_s_own_with_their_boxes(tiny_data: Path) -> None:
    items = dataset_items(tiny_data.parent / "ds")
    assert len(items) == 40 and {split for split, _, _ in items} == {"train", "val", "test"}
    for _, image, labels in items:
        assert labels.rel == image.name and labels.classes and set(labels.classes) <= {"Mask", "No Mask"}
        assert all(0 <= x1 < x2 <= labels.size[0] and 0 <= y1 < y2 <= labels.size[1] for x1, y1, x2, y2 in labels.boxes)


def test_without_a_key_it_says_what_it_would_send_and_where(tiny_data: Path, tmp_path: Path) -> None:
    result = upload(tiny_data.parent / "ds", tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "would send 40 photos of" in result.stderr and "https://app.roboflow.com/my-team/face-masks" in result.stderr
    assert "ROBOFLOW_API_KEY is not set" in result.stderr


def test_a_target_without_workspace_is_refused(tiny_data: Path, tmp_path: Path) -> None:
    result = upload(tiny_data.parent / "ds", tmp_path, target="face-masks")
    assert result.code == 2 and "WORKSPACE/PROJECT" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.skipif(reachable(ROBOFLOW_HOST, timeout=2), reason="needs to be offline")
def test_offline_with_a_key_it_says_roboflow_cannot_be_reached(tiny_data: Path, tmp_path: Path) -> None:
    result = upload(tiny_data.parent / "ds", tmp_path, ROBOFLOW_API_KEY="not-a-real-key")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "api.roboflow.com cannot be reached" in result.stderr and "nothing was sent" in result.stderr
