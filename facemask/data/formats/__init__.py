"""Label formats, each reader beside its writer: Pascal VOC and YOLO (one file per image), COCO JSON,
Label Studio JSON and CVAT 1.1 XML (one file for a whole set of images).

Readers give `LabelFile`s (facemask.data.labels), the form the merge judges; writers take `ImageLabels`,
what a model found on one photo (prelabel.py). A set file names its images as the tool that wrote it
saw them; `match_images` finds them among the photos beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from facemask.data.formats import coco, cvat, labelstudio, voc, yolo
from facemask.data.formats.base import ImageLabels, match_images
from facemask.data.labels import LabelFile

__all__ = ["READERS", "WRITERS", "ImageLabels", "match_images"]

#: Format -> reader of its set files (photo name -> labels); VOC and YOLO files are read by facemask.data.labels.
READERS: dict[str, Callable[[Path], dict[str, LabelFile]]] = {
    "coco": coco.read,
    "labelstudio": labelstudio.read,
    "cvat": cvat.read,
}
#: Format -> writer of pre-labels (photos already copied into the folder), returning the files written.
WRITERS: dict[str, Callable[[list[ImageLabels], list[str], Path], list[Path]]] = {
    "labelstudio": labelstudio.write,
    "cvat": cvat.write,
    "voc": voc.write,
    "yolo": yolo.write,
}
