"""CVAT 1.1 XML "for images": one annotations.xml, an <image> with <box>es per photo (pixels)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from facemask.data.formats.base import ImageLabels
from facemask.data.labels import LabelError, LabelFile

FILE = "annotations.xml"


def is_cvat(path: Path) -> bool:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return False
    return root.tag == "annotations" and root.find("image") is not None


def document(items: list[ImageLabels], names: list[str]) -> ET.ElementTree:
    """What CVAT imports as "CVAT 1.1": the labels in <meta>, every box marked as made by a model."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    labels = ET.SubElement(ET.SubElement(ET.SubElement(root, "meta"), "task"), "labels")
    for name in names:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = "rectangle"
    for i, item in enumerate(items):
        image = ET.SubElement(
            root, "image", id=str(i), name=item.rel, width=str(item.size[0]), height=str(item.size[1])
        )
        for name, (x1, y1, x2, y2) in zip(item.classes, item.boxes, strict=True):
            ET.SubElement(
                image,
                "box",
                label=name,
                source="auto",
                occluded="0",
                xtl=f"{x1:.2f}",
                ytl=f"{y1:.2f}",
                xbr=f"{x2:.2f}",
                ybr=f"{y2:.2f}",
                z_order="0",
            )
    ET.indent(root)
    return ET.ElementTree(root)


def write(items: list[ImageLabels], names: list[str], out: Path) -> list[Path]:
    """annotations.xml beside the photos copied into `out`/images (CVAT's own export layout)."""
    path = out / FILE
    document(items, names).write(path, encoding="utf-8", xml_declaration=True)
    return [path]


def read(path: Path) -> dict[str, LabelFile]:
    """Image name -> its boxes (pixels) and declared size."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise LabelError(f"{path.name}: malformed XML ({e})") from e
    labels = {}
    for image in root.iter("image"):
        try:
            label = LabelFile(size=(int(float(image.get("width"))), int(float(image.get("height")))))
            for box in image.iter("box"):
                label.keys.append(box.get("label") or "")
                label.boxes.append(tuple(float(box.get(k)) for k in ("xtl", "ytl", "xbr", "ybr")))
        except (TypeError, ValueError) as e:
            raise LabelError(f"{path.name}: image {image.get('name')!r} has a box or size that is not numbers") from e
        labels[str(image.get("name"))] = label
    return labels
