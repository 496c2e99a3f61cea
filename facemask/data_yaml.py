"""The ultralytics dataset yaml (`data/face_masks.yaml`): writing it and finding the dataset it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from facemask.split import SPLITS

HEADER = "# Face-mask dataset in YOLO format, written by prepare_data.py.\n"


def dataset_yaml_content(names: list[str], path: str | None) -> dict[str, Any]:
    """`path` None means 'the folder of this yaml', which ultralytics assumes when `path` is absent."""
    content: dict[str, Any] = {} if path is None else {"path": path}
    content.update({s: f"images/{s}" for s in SPLITS})
    content["names"] = dict(enumerate(names))
    return content


def write_data_yaml(dest: Path, names: list[str], path: str | None) -> None:
    text = yaml.safe_dump(dataset_yaml_content(names, path), sort_keys=False, allow_unicode=True)
    dest.write_text(HEADER + text, encoding="utf-8")


def same_dataset(dest: Path, names: list[str], path: str | None) -> bool:
    """Whether `dest` already says what we would write (comments and formatting aside)."""
    try:
        return yaml.safe_load(dest.read_text(encoding="utf-8")) == dataset_yaml_content(names, path)
    except (OSError, yaml.YAMLError):
        return False
