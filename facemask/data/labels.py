"""Readers for the label formats the sources use: Pascal VOC XML and YOLO txt."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from facemask.errors import FacemaskError

YOLO_FIELDS = ("cx", "cy", "w", "h")


class LabelError(FacemaskError, ValueError):
    """A label file that cannot be parsed; the message says where (file, and line or object)."""


@dataclass
class LabelFile:
    """Boxes as written in a label file, before they meet their image.

    `boxes` are x1, y1, x2, y2: in pixels for VOC, normalised to [0, 1] for YOLO (`normalized`).
    `size` is the (width, height) a VOC file declares, used to tell which frame its boxes are in.
    """

    keys: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    normalized: bool = False
    size: tuple[int, int] | None = None


def read_label(path: Path, fmt: str) -> LabelFile:
    """Parse a label file of format `voc` or `yolo`; raises LabelError on malformed content."""
    return read_voc(path) if fmt == "voc" else read_yolo(path)


def read_yolo(path: Path, classes: Collection[str] | None = None) -> LabelFile:
    """`cls cx cy w h` per line; a blank file is a valid, empty label. Each line must pass the check
    ultralytics makes before it trains on a label (a whole, non-negative class id; coordinates within
    0-1, so never NaN or inf), so that what it would leave out of training is an error here, naming the
    line. `classes`: the class ids a dataset has (its data yaml's names); None: any."""
    out = LabelFile(normalized=True)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise LabelError(f"{path.name}: not a text file") from e
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.split():
            key, box = _yolo_box(line, f"{path.name}:{lineno}", classes)
            out.keys.append(key)
            out.boxes.append(box)
    return out


def _yolo_box(line: str, where: str, classes: Collection[str] | None = None) -> tuple[str, tuple[float, ...]]:
    """One YOLO line as (class id, normalised x1, y1, x2, y2); LabelError, prefixed with `where`, when
    it breaks the rule read_yolo states."""
    parts = line.split()
    if len(parts) != 5:
        raise LabelError(f"{where}: expected 'class cx cy w h', got {line.strip()!r}")
    try:
        cls, *coords = (float(v) for v in parts)
    except ValueError as e:
        raise LabelError(f"{where}: not numbers: {line.strip()!r}") from e
    if not (cls.is_integer() and cls >= 0):  # NaN and inf are not integers either
        raise LabelError(f"{where}: class {parts[0]} is not a class id (0, 1, ...)")
    key = str(int(cls))
    if classes is not None and key not in classes:
        raise LabelError(f"{where}: class {key} is not one of the dataset's classes ({', '.join(classes)})")
    for name, text, value in zip(YOLO_FIELDS, parts[1:], coords, strict=True):
        if not 0 <= value <= 1:  # False for NaN
            raise LabelError(f"{where}: {name} is {text}, not a fraction of the image's size from 0 to 1")
    cx, cy, w, h = coords
    return key, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def read_voc(path: Path) -> LabelFile:
    """One `<object>` with `<name>` and `<bndbox>` per face. `<filename>` is ignored on purpose: the
    andrewmvd set says `.png` there for every image, so images are matched by file stem instead."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise LabelError(f"{path.name}: malformed XML ({e})") from e
    out = LabelFile()
    size = root.find("size")
    if size is not None:
        try:
            out.size = (int(float(size.findtext("width", ""))), int(float(size.findtext("height", ""))))
        except ValueError:
            out.size = None
    for i, obj in enumerate(root.iter("object"), 1):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        if not name or box is None:
            raise LabelError(f"{path.name}: object {i} has no <name> or <bndbox>")
        try:
            coords = tuple(float(box.findtext(k, "")) for k in ("xmin", "ymin", "xmax", "ymax"))
        except ValueError as e:
            raise LabelError(f"{path.name}: object {i} ({name}) has a non-numeric <bndbox>") from e
        if not all(math.isfinite(v) for v in coords):
            raise LabelError(f"{path.name}: object {i} ({name}) has a NaN or infinite <bndbox> value")
        out.keys.append(name)
        out.boxes.append(coords)  # type: ignore[arg-type]
    return out
