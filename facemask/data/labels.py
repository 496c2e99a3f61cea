"""Readers for the label formats the sources use: Pascal VOC XML and YOLO txt."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


class LabelError(ValueError):
    """A label file that cannot be parsed; the message says where."""


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


def read_yolo(path: Path) -> LabelFile:
    """`cls cx cy w h` per line; a blank file is a valid, empty label."""
    out = LabelFile(normalized=True)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise LabelError(f"{path.name}: not a text file") from e
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise LabelError(f"{path.name}:{lineno}: expected 'class cx cy w h', got {line.strip()!r}")
        try:
            cx, cy, w, h = (float(v) for v in parts[1:])
            key = str(int(float(parts[0])))
        except ValueError as e:
            raise LabelError(f"{path.name}:{lineno}: not numbers: {line.strip()!r}") from e
        out.keys.append(key)
        out.boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out


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
        out.keys.append(name)
        out.boxes.append(coords)  # type: ignore[arg-type]
    return out
