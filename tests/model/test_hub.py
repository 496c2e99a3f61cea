"""export.py --push-hub: what goes to the Hugging Face Hub, and the one line said, with nothing exported or
sent, when there is no token or no network (the push itself needs both, so it is not run here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from facemask.data.download import HF_HOST, reachable
from facemask.model.hub import MODEL_CARD, files_to_push
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]


def test_files_to_push_are_the_weights_each_export_and_the_card(tmp_path: Path) -> None:
    (tmp_path / "m_openvino_model").mkdir()
    for name in ("m.pt", "m.onnx", "m_openvino_model/m.xml", "m_openvino_model/m.bin"):
        (tmp_path / name).write_bytes(b"x")
    exports = {"onnx": tmp_path / "m.onnx", "openvino": tmp_path / "m_openvino_model", "web": tmp_path / "web"}
    files = files_to_push(tmp_path / "m.pt", exports, card=MODEL_CARD)
    assert [name for name, _ in files] == [
        "m.pt",
        "m.onnx",
        "m_openvino_model/m.bin",
        "m_openvino_model/m.xml",
        "README.md",
    ]
    assert files[-1][1] == MODEL_CARD


@pytest.fixture
def weights(trained_run: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w" / "face_masks.pt"
    path.parent.mkdir()
    shutil.copy(trained_run / "weights" / "best.pt", path)
    return path


def push(weights: Path, tmp_path: Path, **env: str):
    base = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    env = {**base, "HF_HOME": str(tmp_path / "hf"), **env}
    return run_script(
        ROOT / "export.py",
        ["--weights", weights, "--include", "onnx", "--push-hub", "you/face-masks"],
        tmp_path,
        env=env,
    )


@pytest.mark.skipif(not MODEL_CARD.is_file(), reason="MODEL_CARD.md not written yet")
def test_without_a_token_it_says_what_it_would_send_and_where(weights: Path, tmp_path: Path) -> None:
    result = push(weights, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for part in (str(weights), "onnx", "MODEL_CARD.md", "https://huggingface.co/you/face-masks", "hf auth login"):
        assert part in result.stderr
    assert sorted(p.name for p in weights.parent.iterdir()) == ["face_masks.pt"]  # nothing exported


@pytest.mark.skipif(reachable(HF_HOST, timeout=2) or not MODEL_CARD.is_file(), reason="needs to be offline")
def test_offline_with_a_token_it_says_the_hub_cannot_be_reached(weights: Path, tmp_path: Path) -> None:
    result = push(weights, tmp_path, HF_TOKEN="hf_not_a_real_token")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "huggingface.co cannot be reached" in result.stderr and "nothing was sent" in result.stderr
