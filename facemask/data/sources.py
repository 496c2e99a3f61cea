"""Dataset sources: their declaration in configs/datasets.yaml and the image/label pairs they hold."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facemask.classes import CANONICAL
from facemask.data.formats import READERS, match_images
from facemask.data.formats.coco import is_coco
from facemask.data.formats.cvat import is_cvat
from facemask.data.formats.labelstudio import is_labelstudio
from facemask.data.labels import LabelError, LabelFile, read_label
from facemask.data.split import SplitError, parse_fractions
from facemask.errors import FacemaskError
from facemask.files import glob_files
from facemask.yaml_io import load_yaml

#: Suffixes treated as images. The actual format is sniffed when the file is opened, because real
#: downloads hold WebP files named .jpg.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
FORMATS = {"voc": ".xml", "yolo": ".txt", "coco": ".json", "labelstudio": ".json", "cvat": ".xml"}
SET_FORMATS = frozenset({"coco", "labelstudio", "cvat"})  # one label file for many images
AUTO = "auto"  # format: found when the folder is read (facemask.data.layout)
VOCABULARY = "vocabulary"  # classes: the set's own names, mapped by facemask.classes (facemask.data.class_maps)
ULTRALYTICS = "ultralytics"  # labels: ultralytics' rule, .../images/.../x.jpg -> .../labels/.../x.txt
IS_SET_FILE = {"coco": is_coco, "labelstudio": is_labelstudio}
DOWNLOAD_KINDS = ("kaggle", "roboflow", "huggingface", "url")


class ConfigError(FacemaskError, ValueError):
    """A sources config that cannot be used as written."""


class MissingLabel(LabelError):
    """An image whose label file does not exist, or that its set's label file does not list."""


@dataclass(frozen=True)
class SourceSpec:
    """One dataset source as declared in the sources config."""

    name: str
    folder: str
    format: str
    images: str
    labels: str
    classes: dict[str, str]
    download: dict[str, Any] = field(default_factory=dict)
    license: str | None = None
    split: tuple[float, float, float] | None = None  # this source's train/val/test shares (else --split)
    by_vocabulary: bool = False  # classes come from the set's own names when it is read

    @property
    def label_suffix(self) -> str:
        return FORMATS[self.format]


@dataclass(frozen=True)
class Sample:
    """An image of a source and the label file that should describe it (which may not exist)."""

    source: str
    image: Path
    label: Path | None  # None: a negative, a photo known to show no face (prepare_data.py --negatives)
    rel: str  # path of the image relative to the source folder, for messages and reports
    annotation: LabelFile | None = None  # read with its set's label file (SET_FORMATS)

    def read_label(self, fmt: str) -> LabelFile:
        """This image's boxes; MissingLabel when it has none, LabelError when they cannot be read."""
        if self.annotation is not None:
            return self.annotation
        if fmt in SET_FORMATS:
            raise MissingLabel(f"not labelled in {self.label.name}")
        if not self.label.is_file():
            raise MissingLabel(f"no {self.label.name}")
        return read_label(self.label, fmt)


def load_sources(path: str | Path) -> list[SourceSpec]:
    """Read and validate a sources config; every problem names the file and the offending entry."""
    path = Path(path)
    data = load_yaml(path, ConfigError, "sources config")
    entries = data.get("sources")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{path}: expected a non-empty 'sources:' mapping")
    return [_parse_source(path, name, entry) for name, entry in entries.items()]


def _parse_source(path: Path, name: str, entry: Any) -> SourceSpec:
    where = f"{path}: source '{name}'"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    missing = [k for k in ("folder", "format", "images", "classes") if k not in entry]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    fmt = str(entry["format"]).lower()
    if fmt not in FORMATS and fmt != AUTO:
        raise ConfigError(f"{where}: format {fmt!r} is not one of {', '.join([*FORMATS, AUTO])}")
    classes = {} if entry["classes"] == VOCABULARY else entry["classes"]
    if not isinstance(classes, dict) or not (classes or entry["classes"] == VOCABULARY):
        raise ConfigError(
            f"{where}: 'classes' must map each class name or id to {', '.join(CANONICAL)}, or be '{VOCABULARY}'"
        )
    for key, meaning in classes.items():
        if meaning not in CANONICAL:
            raise ConfigError(f"{where}: class '{key}' maps to {meaning!r}, which is not one of {', '.join(CANONICAL)}")
    download = entry.get("download") or {}
    unknown = set(download) - set(DOWNLOAD_KINDS)
    if unknown:
        raise ConfigError(f"{where}: unknown download kind {sorted(unknown)}; use one of {DOWNLOAD_KINDS}")
    return SourceSpec(
        name=str(name),
        folder=str(entry["folder"]),
        format=fmt,
        images=str(entry["images"]),
        labels=str(entry.get("labels", entry["images"])),
        classes={str(k): str(v) for k, v in classes.items()},
        download=dict(download),
        license=entry.get("license"),
        split=_split_shares(where, entry.get("split")),
        by_vocabulary=entry["classes"] == VOCABULARY,
    )


def image_files(folder: Path) -> list[Path]:
    """Every image file under `folder`, at any depth, sorted; linked folders are followed once (never
    round a loop) and a file reached by two paths is listed once."""
    found = glob_files(os.path.join(folder, "**", "*"))
    return sorted(Path(f) for f in found if Path(f).suffix.lower() in IMAGE_SUFFIXES)


def iter_samples(spec: SourceSpec, root: Path) -> Iterator[Sample]:
    """Every image of a source under `root` (the source's own folder), sorted, with its label path (and, for
    a set's label file, its labels)."""
    images = image_files(root / spec.images)
    if spec.format in SET_FORMATS:
        yield from _set_samples(spec, root, images)
        return
    for image in images:
        yield Sample(spec.name, image, label_path(spec, root, image), image.relative_to(root).as_posix())


def label_path(spec: SourceSpec, root: Path, image: Path) -> Path:
    """Where the label of a VOC or YOLO image is: mirrored from `images` into `labels`, or by ultralytics' rule."""
    if spec.labels == ULTRALYTICS:
        head, sep, tail = image.as_posix().rpartition("/images/")
        return Path(f"{head}/labels/{tail}" if sep else str(image)).with_suffix(spec.label_suffix)
    return (root / spec.labels / image.relative_to(root / spec.images)).with_suffix(spec.label_suffix)


def set_files(spec: SourceSpec, root: Path) -> list[Path]:
    """The label files of a COCO, Label Studio or CVAT set under its `labels` folder, newest first (an
    image a newer export labels again takes the newer labels)."""
    found = glob_files(os.path.join(root / spec.labels, "**", f"*{spec.label_suffix}"))
    is_set = IS_SET_FILE.get(spec.format)
    files = [Path(f) for f in found if (is_set is None and is_cvat(Path(f))) or (is_set and json_is(Path(f), is_set))]
    return sorted(files, key=lambda p: (-p.stat().st_mtime, str(p)))


def json_is(path: Path, test: Callable[[Any], bool]) -> bool:
    """Whether `path` holds JSON that passes `test` (a format's is_... check)."""
    try:
        return bool(test(json.loads(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False


def _set_samples(spec: SourceSpec, root: Path, images: list[Path]) -> Iterator[Sample]:
    files = set_files(spec, root)
    if not files:
        raise ConfigError(f"source {spec.name!r}: no {spec.format} label file under {root / spec.labels}")
    found: dict[Path, tuple[Path, LabelFile]] = {}
    for path in files:
        rest = [image for image in images if image not in found]
        matched = match_images(rest, _read_set(spec, path), path.parent)
        found.update({image: (path, label) for image, label in matched.items()})
    for image in images:
        path, label = found.get(image, (files[0], None))
        yield Sample(spec.name, image, path, image.relative_to(root).as_posix(), label)


def _read_set(spec: SourceSpec, path: Path) -> dict[str, LabelFile]:
    try:
        return READERS[spec.format](path)
    except LabelError as e:
        raise ConfigError(f"source {spec.name!r}: {e}") from e


def _split_shares(where: str, value: Any) -> tuple[float, float, float] | None:
    """A source's own 'split: 62/15/23', so that crowd sources can weigh in val and test as they do for users."""
    if value is None:
        return None
    try:
        return parse_fractions(str(value))
    except SplitError as e:
        raise ConfigError(f"{where}: {e}") from e
