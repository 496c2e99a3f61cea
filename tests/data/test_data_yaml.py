"""The dataset yamls of data/: a user who runs val.py or train.py on one before making its dataset is told
the command that makes it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from facemask.data import data_yaml
from facemask.data.data_yaml import MADE_BY, DatasetError, check_data

ROOT = Path(__file__).resolve().parents[2]
YAMLS = sorted((ROOT / "data").glob("*.yaml"))


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.name)
def test_each_shipped_yaml_names_the_command_that_makes_its_dataset(path: Path) -> None:
    folder = yaml.safe_load(path.read_text())["path"]
    args = shlex.split(MADE_BY[folder])
    assert args[:2] == ["python", "prepare_data.py"]
    flags = {a: b for a, b in zip(args[2:], [*args[3:], ""], strict=True) if a.startswith("--") and b[:2] != "--"}
    assert flags.get("--out", "datasets/face_masks") == folder  # prepare_data.py's defaults otherwise
    assert flags.get("--data", "data/face_masks.yaml") == path.relative_to(ROOT).as_posix()
    if "--keep-split" in flags:
        assert (ROOT / flags["--keep-split"]).is_file()


def test_a_dataset_not_made_yet_is_a_one_line_error_with_its_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(data_yaml, "PROJECT_ROOT", tmp_path)  # a fresh clone: nothing made
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as e:
        check_data(ROOT / "data" / "face_masks_crowd.yaml", split="test")
    assert "\n" not in str(e.value)
    assert str(e.value).endswith(f"which does not exist: make it with {MADE_BY['datasets/face_masks_crowd']}")
