"""Label Studio JSON: tasks to import (a photo each, the model's boxes as `predictions`) and the export of
a reviewed project (each task's `annotations`). Boxes are `rectanglelabels` in percent of the photo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from facemask.data.formats.base import ImageLabels
from facemask.data.labels import LabelError, LabelFile

FROM_NAME, TO_NAME = "label", "image"  # the names in the labelling config (LABEL_CONFIG)
LOCAL_FILES = "/data/local-files/?d="  # Label Studio's URL of a file in its local-files storage
LABEL_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
{labels}  </RectangleLabels>
</View>
"""


def is_labelstudio(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(isinstance(t, dict) and "data" in t for t in data)


def region(name: str, box, size: tuple[int, int], score: float | None = None) -> dict[str, Any]:
    """One rectangle of a task, in percent of the photo, as Label Studio stores it."""
    (x1, y1, x2, y2), (w, h) = (float(v) for v in box), size
    value = {
        "x": 100 * x1 / w,
        "y": 100 * y1 / h,
        "width": 100 * (x2 - x1) / w,
        "height": 100 * (y2 - y1) / h,
        "rotation": 0,
        "rectanglelabels": [name],
    }
    out = {
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "rectanglelabels",
        "original_width": w,
        "original_height": h,
        "image_rotation": 0,
        "value": value,
    }
    return out if score is None else {**out, "score": score}


def tasks(items: list[ImageLabels], url_prefix: str, model_version: str) -> list[dict[str, Any]]:
    """A task per photo, its boxes as the model's prediction for a person to correct."""
    out = []
    for item in items:
        result = [region(c, b, item.size, s) for c, b, s in zip(item.classes, item.boxes, item.scores, strict=True)]
        score = min(item.scores) if item.scores else 0.0
        out.append(
            {
                "data": {"image": url_prefix + item.rel},
                "predictions": [{"model_version": model_version, "score": score, "result": result}],
            }
        )
    return out


def write(items: list[ImageLabels], names: list[str], out: Path, model_version: str = "facemask") -> list[Path]:
    """tasks.json and the labelling config; the photos, copied into `out`, are served by Label Studio's
    local-files storage from the folder above `out` (LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT)."""
    path = out / "tasks.json"
    path.write_text(json.dumps(tasks(items, f"{LOCAL_FILES}{out.name}/", model_version), indent=1), encoding="utf-8")
    labels = "".join(f'    <Label value="{n}"/>\n' for n in names)
    (out / "label_config.xml").write_text(LABEL_CONFIG.format(labels=labels), encoding="utf-8")
    return [path]


def image_name(task: dict[str, Any]) -> str:
    """The photo a task shows, as a file name: from `/data/upload/3/abc123-photo.jpg`, a local-files
    URL (`?d=folder/photo.jpg`) or any other URL."""
    url = str(next(iter(task["data"].values()))) if "image" not in task["data"] else str(task["data"]["image"])
    parsed = urlparse(url)
    path = parse_qs(parsed.query).get("d", [parsed.path])[0]
    return unquote(path)


def read(path: Path) -> dict[str, LabelFile]:
    """Photo name -> the boxes of its latest annotation that was not cancelled; tasks never annotated
    (pre-labels nobody checked) are left out."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LabelError(f"{path.name}: not valid JSON ({e})") from e
    if not is_labelstudio(data):
        raise LabelError(f"{path.name}: not a Label Studio export (a list of tasks with 'data')")
    labels = {}
    for task in data:
        done = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if done:
            labels[image_name(task)] = _label(done[-1].get("result") or [], path)
    return labels


def _label(result: list[dict[str, Any]], path: Path) -> LabelFile:
    """Percent rectangles as normalised corners (the photo's size is read with the photo)."""
    label = LabelFile(normalized=True)
    for r in result:
        if r.get("type") != "rectanglelabels":
            continue
        try:
            v = r["value"]
            x, y, w, h = (float(v[k]) / 100 for k in ("x", "y", "width", "height"))
            label.keys.append(str(v["rectanglelabels"][0]))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise LabelError(f"{path.name}: a rectangle without x, y, width, height and a label ({e!r})") from e
        label.boxes.append((x, y, x + w, y + h))
    return label
