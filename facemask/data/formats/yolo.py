"""YOLO labels: one `class cx cy w h` line per box (normalised), class names in data.yaml, classes.txt,
obj.names or Roboflow's _darknet.labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from facemask.classes import ClassMapError, name_key
from facemask.data.formats.base import ImageLabels
from facemask.geometry import to_yolo

#: Where a YOLO set keeps its class names, by file name (a yaml's `names`; one name per line otherwise).
NAME_FILES = ("data.yaml", "dataset.yaml", "classes.txt", "obj.names", "_darknet.labels")


def write_label(path: Path, class_ids: list[int], boxes: np.ndarray, size: tuple[int, int]) -> None:
    """One YOLO label file (an empty one for a photo without faces)."""
    rows = to_yolo(boxes, *size)
    path.write_text(
        "".join(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, (x, y, w, h) in zip(class_ids, rows, strict=True))
    )


def write(items: list[ImageLabels], names: list[str], out: Path) -> list[Path]:
    """Labels beside the photos copied into `out` (LabelImg's YOLO layout), and classes.txt."""
    written = []
    for item in items:
        path = (out / item.rel).with_suffix(".txt")
        write_label(path, [names.index(c) for c in item.classes], item.boxes, item.size)
        written.append(path)
    (out / "classes.txt").write_text("".join(f"{n}\n" for n in names))
    return written


def read_names(folder: Path) -> tuple[dict[str, str], Path] | None:
    """Class id -> name of the YOLO set in `folder`, and the file that says so; None when it has none.
    Looked for in the folder, then one level down (a Roboflow export keeps data.yaml at the top)."""
    candidates = [folder / n for n in NAME_FILES] + sorted(folder.glob("*.yaml")) + sorted(folder.glob("*/*.yaml"))
    candidates += [p for n in NAME_FILES for p in sorted(folder.glob(f"*/{n}"))]
    found = [(names, path) for path in dict.fromkeys(candidates) if (names := _names_in(path))]
    for names, path in found[1:]:  # two files that name an id otherwise: one of them swaps every label's class
        if any(name_key(names[i]) != name_key(found[0][0][i]) for i in names.keys() & found[0][0].keys()):
            raise ClassMapError(
                f"{found[0][1]} and {path} name the class ids differently ({names_listing(found[0][0])}; "
                f"{names_listing(names)}): remove the wrong one"
            )
    return max(found, key=lambda f: len(f[0])) if found else None  # files that agree: the one naming the most


def names_listing(names: dict[str, str]) -> str:
    """Class ids with their names, as a line says them: "0 with_mask, 1 without_mask"."""
    return ", ".join(f"{k} {v}" for k, v in names.items())


def _names_in(path: Path) -> dict[str, str] | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix in (".yaml", ".yml"):
        try:
            names = (yaml.safe_load(text) or {}).get("names")
        except (yaml.YAMLError, AttributeError):
            return None
        if isinstance(names, list):
            return {str(i): str(n) for i, n in enumerate(names)}
        return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {str(i): n for i, n in enumerate(lines)} or None
