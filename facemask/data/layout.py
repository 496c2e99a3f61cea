"""Where a set keeps its images and labels, found by looking (`prepare_data.py --add PATH`, `format: auto`),
and every sample of the sources to merge: configured ones under --sources, and added ones."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from facemask.data.class_maps import unused_names, with_class_map
from facemask.data.formats.cvat import is_cvat
from facemask.data.formats.yolo import NAME_FILES
from facemask.data.labels import LabelError, read_voc, read_yolo
from facemask.data.sources import (
    AUTO,
    IS_SET_FILE,
    ULTRALYTICS,
    ConfigError,
    Sample,
    SourceSpec,
    image_files,
    iter_samples,
    json_is,
)
from facemask.errors import warn
from facemask.files import glob_files

PROBE = 20  # label files looked at to tell a format
LIST_FILES = ("train", "val", "valid", "test")  # darknet's lists of image paths, not labels
OWN_SPLITS = ("train", "val", "valid", "validation", "test")  # a set's own split folders (a Roboflow export's)


def _files(root: Path, suffix: str) -> list[Path]:
    return [Path(f) for f in glob_files(os.path.join(root, "**", f"*{suffix}"))]


def _common(root: Path, paths: Iterable[Path]) -> str:
    """The deepest folder (relative to root) holding all `paths`."""
    rels = [p.parent.relative_to(root) for p in paths]
    return Path(os.path.commonpath(rels)).as_posix() if rels else "."


def _looks(paths: list[Path], read: Callable[[Path], Any]) -> list[Path]:
    """`paths` without those of the first PROBE that do not parse, if at least half of them parse as labels
    of one format, else []: one bad label among them (a box wider than the photo, a file cut short) is the
    merge's to report, not a reason to think the set has no labels, and a stray file (notes.txt) must not
    move the labels folder to the one above."""
    failed = {p for p in paths[:PROBE] if not _parses(p, read)}
    return [p for p in paths if p not in failed] if paths and 2 * len(failed) <= len(paths[:PROBE]) else []


def _parses(path: Path, read: Callable[[Path], Any]) -> bool:
    """Whether `path` reads as a label of the format `read` reads."""
    try:
        read(path)
    except (LabelError, OSError):
        return False
    return True


def detect(root: Path) -> dict[str, str]:
    """The format, images and labels folders of the set in `root` (a SourceSpec's fields)."""
    xmls, jsons = _files(root, ".xml"), _files(root, ".json")
    if any(is_cvat(p) for p in xmls if p.name == "annotations.xml"):
        return {"format": "cvat", "images": ".", "labels": "."}
    for fmt, test in IS_SET_FILE.items():
        if any(json_is(p, test) for p in jsons):
            return {"format": fmt, "images": ".", "labels": "."}
    images = image_files(root)
    voc = _looks([p for p in xmls if p.name != "annotations.xml"], read_voc)
    if voc:
        return {"format": "voc", "images": _common(root, images), "labels": _common(root, voc)}
    texts = [p for p in _files(root, ".txt") if p.name not in NAME_FILES and p.stem not in LIST_FILES]
    yolo = _looks(texts, read_yolo)
    if yolo and any("labels" in p.relative_to(root).parts for p in yolo):
        return {"format": "yolo", "images": ".", "labels": ULTRALYTICS}
    if yolo:
        return {"format": "yolo", "images": _common(root, images), "labels": _common(root, yolo)}
    raise ConfigError(
        f"{root}: found no labels (YOLO .txt, Pascal VOC .xml, COCO or Label Studio .json, CVAT "
        "annotations.xml) beside its images"
    )


def added_spec(path: str | Path, taken: set[str]) -> SourceSpec:
    """The source of `--add PATH` (a folder, or a label file in it): named after its folder, unique among
    `taken` (the configured sources' names and earlier --add sets)."""
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    if not Path(path).exists():
        raise ConfigError(f"--add {path}: no such file or folder")
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", root.resolve().name).strip("_-") or "added"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return SourceSpec(name=name, folder=str(root.resolve()), classes={}, by_vocabulary=True, **detect(root))


def resolve(spec: SourceSpec, root: Path, overrides: dict[str, str], where: str) -> tuple[SourceSpec, str | None]:
    """A spec whose format is found by looking and whose classes come from its own names, made concrete;
    the line that says its class map (None for a spec with a class map of its own)."""
    if spec.format == AUTO:
        spec = replace(spec, **detect(root))
    if not spec.by_vocabulary:
        return spec, None
    return with_class_map(spec, root, overrides, where)


def resolve_added(
    paths: Iterable[str | Path], configured: Sequence[str], overrides: dict[str, str], log: Callable[[str], Any] = print
) -> list[SourceSpec]:
    """The sources of every --add PATH with their class maps, each said in a line before anything is written."""
    taken, specs = set(configured), []
    for path in paths:
        spec = added_spec(path, taken)
        spec, line = resolve(spec, Path(spec.folder), overrides, f"--add {path}")
        taken.add(spec.name)
        specs.append(spec)
        log(line)
        own = [d.name for d in sorted(Path(spec.folder).iterdir()) if d.is_dir() and d.name.lower() in OWN_SPLITS]
        if own:
            log(f"  its own {'/'.join(own)} folders are pooled and split anew, copies of a photo kept together")
    if not configured:  # else a name may be a configured set's, read only once the merge starts
        for name in unused_names(overrides, specs):
            warn(f"--class-map {name}: no --add set has a class of this name, so it changes nothing")
    return specs


def discover(
    sources_dir: Path | None, specs: Iterable[SourceSpec], overrides: dict[str, str], log: Callable[[str], Any]
) -> tuple[dict[str, SourceSpec], list[Sample]]:
    """Every source made concrete (format, class map) by name, and all their samples: configured sources in
    their folder under `sources_dir` (skipped with a warning when absent), added ones (absolute folders)."""
    resolved, samples, downloadable = {}, [], []
    for spec in specs:
        root = Path(sources_dir or ".") / spec.folder
        if not root.is_dir() and spec.download:
            downloadable.append(spec.name)  # a set this machine has not fetched: one line for them all, below
            continue
        if not root.is_dir():
            log(f"WARNING: source {spec.name!r} not found at {root}; skipped")
            continue
        spec, line = resolve(spec, root, overrides, f"source {spec.name!r}")
        if line:
            log(line)
        resolved[spec.name] = spec
        samples += iter_samples(spec, root)
    if downloadable:
        log(f"Not in {sources_dir or '.'}, so not merged: {', '.join(downloadable)} (--download fetches them)")
    return resolved, samples
