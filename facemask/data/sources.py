"""Dataset sources: their declaration in configs/datasets.yaml and the image/label pairs they hold."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facemask.classes import CANONICAL
from facemask.errors import FacemaskError
from facemask.files import glob_files
from facemask.yaml_io import load_yaml

#: Suffixes treated as images. The actual format is sniffed when the file is opened, because real
#: downloads hold WebP files named .jpg.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
FORMATS = {"voc": ".xml", "yolo": ".txt"}
DOWNLOAD_KINDS = ("kaggle", "roboflow", "url")


class ConfigError(FacemaskError, ValueError):
    """A sources config that cannot be used as written."""


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
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    classes = entry["classes"]
    if not isinstance(classes, dict) or not classes:
        raise ConfigError(f"{where}: 'classes' must map each class name or id to {', '.join(CANONICAL)}")
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
    )


def image_files(folder: Path) -> list[Path]:
    """Every image file under `folder`, at any depth, sorted; linked folders are followed once (never
    round a loop) and a file reached by two paths is listed once."""
    found = glob_files(os.path.join(folder, "**", "*"))
    return sorted(Path(f) for f in found if Path(f).suffix.lower() in IMAGE_SUFFIXES)


def iter_samples(spec: SourceSpec, root: Path) -> Iterator[Sample]:
    """Every image of a source under `root` (the source's own folder), sorted, with its label path."""
    images_dir = root / spec.images
    labels_dir = root / spec.labels
    for image in image_files(images_dir):
        rel_in_images = image.relative_to(images_dir)
        yield Sample(
            source=spec.name,
            image=image,
            label=(labels_dir / rel_in_images).with_suffix(spec.label_suffix),
            rel=image.relative_to(root).as_posix(),
        )
