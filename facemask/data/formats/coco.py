"""COCO JSON, as Roboflow exports it: `_annotations.coco.json` beside the photos of each split folder, or
one file for a whole set. Categories no box uses (Roboflow's dataset-named parent category) are ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from facemask.data.labels import LabelError, LabelFile


def is_coco(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("images"), list) and "annotations" in data


def read(path: Path) -> dict[str, LabelFile]:
    """Image file name -> its boxes (pixels, keyed by category name) and size, for every image listed."""
    data = _load(path)
    try:
        categories = {c["id"]: str(c["name"]) for c in data.get("categories", [])}
        labels = {}
        by_id = {}
        for image in data["images"]:
            label = LabelFile(size=(int(image["width"]), int(image["height"]))) if "width" in image else LabelFile()
            labels[str(image["file_name"])] = by_id[image["id"]] = label
        for a in data["annotations"]:
            x, y, w, h = (float(v) for v in a["bbox"])
            label = by_id[a["image_id"]]
            label.keys.append(categories.get(a["category_id"], str(a["category_id"])))
            label.boxes.append((x, y, x + w, y + h))
    except (KeyError, TypeError, ValueError) as e:
        raise LabelError(f"{path.name}: not a COCO detection file ({type(e).__name__}: {e})") from e
    return labels


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelError(f"{path.name}: not valid JSON ({e})") from e
    if not is_coco(data):
        raise LabelError(f"{path.name}: not a COCO file (no 'images' and 'annotations')")
    return data
