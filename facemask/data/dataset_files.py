"""A merged dataset on disk: its data yaml, the images of a split, their YOLO labels as Detections,
and the source each file came from (prepare_data.py names files '<source>_<stem>_<hash>')."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv
from ultralytics.data.utils import img2label_paths

from facemask.data.data_yaml import DatasetError, dataset_root
from facemask.data.labels import read_yolo
from facemask.data.sources import IMAGE_SUFFIXES, load_sources
from facemask.paths import SOURCES_CONFIG
from facemask.yaml_io import load_yaml

OTHER_SOURCE = "all"  # the source of a file name the merge did not write


#: A training photo's right-angle copies as the merge names them: <stem>_rot90, <stem>_rot180, <stem>_rot270.
ROTATED_COPY = re.compile(r"^(?P<stem>.+)_rot(?:90|180|270)$")


def rotation_tag(angle: int) -> str:
    """What the merge adds to a photo's stem for its copy turned by `angle` (ROTATED_COPY reads it back)."""
    return f"_rot{angle}"


def load_labels(image: Path, width: int, height: int, classes: Collection[str] | None = None) -> sv.Detections:
    """An image's YOLO label boxes in pixels; no label file means no faces. LabelError names the line of a
    bad label (`classes`: the class ids allowed, see read_yolo)."""
    path = Path(img2label_paths([str(image)])[0])
    if not path.is_file():
        return sv.Detections.empty()
    label = read_yolo(path, classes)
    if not label.boxes:
        return sv.Detections.empty()
    xyxy = np.array(label.boxes, dtype=float) * [width, height, width, height]
    return sv.Detections(xyxy=xyxy, class_id=np.array([int(k) for k in label.keys]))


def split_images(root: Path, content: dict[str, Any], split: str) -> list[Path]:
    """The images of a split folder, sorted (a split given as a list or .txt file is not supported)."""
    entry = content.get(split)
    folder = root / str(entry)
    if not isinstance(entry, str) or not folder.is_dir():
        raise DatasetError(f"the {split} split must be a folder of images under {root}, not {entry!r}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def load_dataset(data: str | Path) -> tuple[Path, dict[str, Any]]:
    """A data yaml's dataset folder and content."""
    content = load_yaml(data, DatasetError, "data yaml", " (run prepare_data.py, or pass --data)")
    if not content.get("names"):
        raise DatasetError(f"{data}: needs a 'names' entry")
    return dataset_root(Path(data), content), content


def known_sources(root: Path) -> list[str]:
    """Source names the merge prefixes file names with: from the dataset's report.json, else the
    project's sources config; longest first, so that no name is taken for a prefix of another."""
    report = root / "report.json"
    try:
        names = list(json.loads(report.read_text(encoding="utf-8"))["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        names = [s.name for s in load_sources(SOURCES_CONFIG)] if SOURCES_CONFIG.is_file() else []
    return sorted(names, key=len, reverse=True)


def source_of(image: str, sources: list[str]) -> str:
    name = Path(image).name
    return next((s for s in sources if name.startswith(f"{s}_")), OTHER_SOURCE)


def class_names(content: dict[str, Any]) -> list[str]:
    """A data yaml's `names` in id order, whether written as a list or as {id: name}."""
    names = content["names"]
    return [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
