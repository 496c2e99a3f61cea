"""A merged dataset sent to a Roboflow project (`prepare_data.py --upload-roboflow WORKSPACE/PROJECT`)
through Roboflow's REST API, with ROBOFLOW_API_KEY: each photo with its split, then its boxes.

The `roboflow` package makes the same calls, but it requires opencv-python-headless, a second cv2 that
would replace the GUI build ultralytics and detect.py --view-img use; `requests` is all this needs.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from facemask.data.dataset_files import ROTATED_COPY
from facemask.data.download import ROBOFLOW_API, ROBOFLOW_HOST, ROBOFLOW_KEY, reachable
from facemask.data.formats.base import ImageLabels
from facemask.data.formats.voc import annotation
from facemask.data.formats.yolo import read_names
from facemask.data.labels import read_yolo
from facemask.data.sources import image_files
from facemask.data.split import SPLITS
from facemask.errors import FacemaskError

SPLIT_NAMES = {"train": "train", "val": "valid", "test": "test"}  # Roboflow's names of the splits


class UploadError(FacemaskError, RuntimeError):
    """An upload that cannot start or that Roboflow refused; the message says what and where."""


def dataset_items(dataset: Path) -> list[tuple[str, Path, ImageLabels]]:
    """(split, photo, its boxes) of every photo of a merged dataset (rotated training copies left out)."""
    names = (read_names(dataset) or ({}, None))[0]
    items = []
    for split in SPLITS:
        for image in image_files(dataset / "images" / split):
            label = dataset / "labels" / split / f"{image.stem}.txt"
            if ROTATED_COPY.match(image.stem) or not label.is_file():
                continue
            with Image.open(image) as im:
                size = im.size
            boxes = read_yolo(label)
            pixels = [(x1 * size[0], y1 * size[1], x2 * size[0], y2 * size[1]) for x1, y1, x2, y2 in boxes.boxes]
            items.append((split, image, ImageLabels(image.name, size, pixels, [names.get(k, k) for k in boxes.keys])))
    return items


def check_upload(target: str, what: str) -> tuple[str, str]:
    """(workspace, project) of WORKSPACE/PROJECT, once the key and the network are there; else UploadError
    saying what would be sent (`what`) and where."""
    workspace, sep, project = target.partition("/")
    if not sep or not workspace or not project or "/" in project:
        raise UploadError(
            f"--upload-roboflow takes WORKSPACE/PROJECT (as in app.roboflow.com/WORKSPACE/PROJECT), not {target!r}"
        )
    where = f"https://app.roboflow.com/{workspace}/{project}"
    if not os.environ.get(ROBOFLOW_KEY):
        raise UploadError(
            f"--upload-roboflow would send {what} to {where}, but {ROBOFLOW_KEY} is not set "
            "(app.roboflow.com -> Settings -> API Keys); nothing was sent"
        )
    if not reachable(ROBOFLOW_HOST):
        raise UploadError(
            f"--upload-roboflow would send {what} to {where}, but {ROBOFLOW_HOST} cannot be reached "
            "(no network?); nothing was sent"
        )
    return workspace, project


def upload(dataset: Path, target: str, log: Callable[[str], Any] = print) -> int:
    """Send every photo of `dataset` with its boxes (Pascal VOC) and split to the project; returns the count."""
    import requests

    items = dataset_items(dataset)
    _, project = check_upload(target, f"{len(items)} photos of {dataset} with their boxes")
    key = os.environ[ROBOFLOW_KEY]
    try:
        for split, image, labels in items:
            _send(project, key, image, SPLIT_NAMES[split], labels)
    except requests.RequestException as e:
        raise UploadError(f"the upload to https://app.roboflow.com/{target} stopped: {e}") from e
    log(f"Sent {len(items)} photos of {dataset} to https://app.roboflow.com/{target}")
    return len(items)


def _send(project: str, key: str, image: Path, split: str, labels: ImageLabels) -> None:
    """One photo, then its boxes as a Pascal VOC file (what Roboflow's own uploader does)."""
    import requests

    with image.open("rb") as f:
        url = f"{ROBOFLOW_API}/dataset/{project}/upload"
        params = {"api_key": key, "name": image.name, "split": split}
        sent = requests.post(url, params=params, files={"file": (image.name, f)}, timeout=300).json()
    if not (sent.get("success") or sent.get("duplicate")):
        raise UploadError(f"Roboflow refused {image.name}: {sent.get('message') or sent}")
    body = {"annotationFile": ET.tostring(annotation(labels, image).getroot(), encoding="unicode")}
    url = f"{ROBOFLOW_API}/dataset/{project}/annotate/{sent['id']}"
    requests.post(url, params={"api_key": key, "name": f"{image.stem}.xml"}, json=body, timeout=60).raise_for_status()
