"""Pascal VOC: one XML file per photo, as LabelImg writes and opens it (read by facemask.data.labels)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from facemask.data.formats.base import ImageLabels


def annotation(item: ImageLabels, image_path: Path) -> ET.ElementTree:
    """The VOC document of one photo; integer pixel corners, as LabelImg writes them."""
    root = ET.Element("annotation")
    for tag, text in (("folder", image_path.parent.name), ("filename", image_path.name), ("path", str(image_path))):
        ET.SubElement(root, tag).text = text
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "Unknown"
    size = ET.SubElement(root, "size")
    for tag, value in zip(("width", "height", "depth"), (*item.size, 3), strict=True):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for name, box in zip(item.classes, item.boxes, strict=True):
        obj = ET.SubElement(root, "object")
        for tag, text in (("name", name), ("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")):
            ET.SubElement(obj, tag).text = text
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
            ET.SubElement(bndbox, tag).text = str(round(float(value)))
    ET.indent(root)
    return ET.ElementTree(root)


def write(items: list[ImageLabels], names: list[str], out: Path) -> list[Path]:
    """An XML file beside each photo copied into `out`: LabelImg opens the folder and saves there."""
    written = []
    for item in items:
        image = out / item.rel
        path = image.with_suffix(".xml")
        annotation(item, image.resolve()).write(path, encoding="utf-8", xml_declaration=False)
        written.append(path)
    return written
