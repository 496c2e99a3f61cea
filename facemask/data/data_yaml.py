"""The ultralytics dataset yaml (`data/face_masks.yaml`): writing it and finding the dataset it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from facemask.data.sources import IMAGE_SUFFIXES
from facemask.data.split import DEFAULT_FRACTIONS, SPLITS
from facemask.errors import FacemaskError
from facemask.paths import PROJECT_ROOT
from facemask.yaml_io import load_yaml

HEADER = "# Face-mask dataset in YOLO format, written by prepare_data.py.\n"
_MERGE = "python prepare_data.py --sources ../shared/datasets"  # or --download, with Kaggle credentials
#: How to make each dataset that data/*.yaml names, for the error when it is not made yet.
MADE_BY = {
    "datasets/face_masks": _MERGE,
    "datasets/face_masks_upright": (
        f"{_MERGE} --no-rotate --out datasets/face_masks_upright --data data/face_masks_upright.yaml"
    ),
    "datasets/face_masks_crowd": (
        f"{_MERGE} --no-rotate --keep-split data/face_masks_crowd_splits.csv --out datasets/face_masks_crowd"
        " --data data/face_masks_crowd.yaml"
    ),
    "datasets/face_masks_3class": (
        f"{_MERGE} --incorrect class --no-rotate --out datasets/face_masks_3class --data data/face_masks_3class.yaml"
    ),
}


def dataset_yaml_content(names: list[str], path: str | None) -> dict[str, Any]:
    """`path` None means 'the folder of this yaml', which ultralytics assumes when `path` is absent."""
    content: dict[str, Any] = {} if path is None else {"path": path}
    content.update({s: f"images/{s}" for s in SPLITS})
    content["names"] = dict(enumerate(names))
    return content


def write_data_yaml(dest: Path, names: list[str], path: str | None) -> None:
    text = yaml.safe_dump(dataset_yaml_content(names, path), sort_keys=False, allow_unicode=True)
    dest.write_text(HEADER + text, encoding="utf-8")


def same_dataset(dest: Path, names: list[str], path: str | None) -> bool:
    """Whether `dest` already says what we would write (comments and formatting aside)."""
    try:
        return yaml.safe_load(dest.read_text(encoding="utf-8")) == dataset_yaml_content(names, path)
    except (OSError, yaml.YAMLError):
        return False


def written_by_us(dest: Path) -> bool:
    """Whether `dest` is a dataset yaml as prepare_data.py writes it: its header, and no entry but those
    it writes (a user's own yaml, or one a user edited, is not, and --exist-ok leaves it alone)."""
    try:
        text = dest.read_text(encoding="utf-8")
        content = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not text.startswith(HEADER) or not isinstance(content, dict) or not isinstance(content.get("names"), dict):
        return False
    return content == dataset_yaml_content(list(content["names"].values()), content.get("path"))


class DatasetError(FacemaskError, FileNotFoundError):
    """A data yaml, or the dataset it names, that cannot be trained or validated on."""


def _check_split(data: Path, content: dict[str, Any], root: Path, split: str) -> None:
    """Refuse a yaml without `split`, or whose `split` has no images, in one line that says what to do:
    ultralytics stops later, with a traceback, on an empty val split."""
    if not content.get("names") or split not in content:
        raise DatasetError(f"{data}: needs 'names' and '{split}' entries")
    images = root / str(content[split])
    if not images.is_dir():
        raise DatasetError(f"no {split} images in {images}: run prepare_data.py (see README)")
    if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in images.rglob("*")):
        raise DatasetError(
            f"the {split} split of {data} is empty ({images}): merge more photos, or give it a larger share "
            f"with prepare_data.py --split ({'/'.join(f'{f * 100:g}' for f in DEFAULT_FRACTIONS)} by default)"
        )


def dataset_root(data: Path, content: dict[str, Any]) -> Path:
    """The folder a data yaml's `path` names. A relative `path` is tried from the working directory,
    the project root and the yaml's folder, so the scripts work from anywhere."""
    path = content.get("path")
    if path is None:
        return data.parent.resolve()
    candidates = (
        [Path(path)] if Path(path).is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path, data.parent / path]
    )
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    how = f"make it with {MADE_BY[path]}" if path in MADE_BY else "run prepare_data.py first"
    raise DatasetError(f"{data} names the dataset folder {path}, which does not exist: {how}")


def check_data(data: str | Path, split: str = "train", *more: str) -> tuple[Path, dict[str, Any]]:
    """Validate a data yaml for ultralytics, with images in `split` and each of `more` (training needs
    val too: ultralytics validates on it every epoch); returns a yaml path that resolves from any working
    directory (a copy with an absolute `path` beside the original when needed) and its content."""
    data = Path(data)
    content = load_yaml(data, DatasetError, "data yaml", " (run prepare_data.py, or pass --data)")
    root = dataset_root(data, content)
    for name in (split, *more):
        _check_split(data, content, root, name)
    if content.get("path") is None or Path(content["path"]).resolve() == root:
        return data, content
    resolved = data.with_name(f".{data.stem}.resolved.yaml")
    resolved.write_text(yaml.safe_dump({**content, "path": str(root)}, sort_keys=False), encoding="utf-8")
    return resolved, content
