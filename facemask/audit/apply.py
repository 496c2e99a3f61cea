"""`--apply missing=...`: a corrected copy of an audited dataset, in a new folder with its own data.yaml.

Only training images change: val and test keep their labels, so that scores stay comparable with
earlier runs. The candidates applied are the caller's choice: every `missing` one after an audit, the
accepted ones of any kind after a review (facemask.audit.review), where an accepted `wrong_class` box
takes the model's class and an accepted `unfound` box is deleted; each, turned, on the photo's rotated
copies too (facemask.audit.copies). Everything unchanged is hard-linked
(copied where links are impossible); a changed file is always written as a new file, never through a
link, so the input dataset is never edited.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image
from ultralytics.data.utils import img2label_paths

from facemask.audit.candidates import AuditError, Candidate
from facemask.audit.copies import onto_copies, rotated_copies
from facemask.data.dataset_files import load_labels, split_images
from facemask.data.merge import DATASET, ULTRALYTICS_CACHES
from facemask.data.split import SPLITS
from facemask.images import ends_cleanly, save_rgb
from facemask.owned_dirs import check_output, mark, publish

APPLY_MODES = ("add", "ignore", "none")
# what a copy counts: images changed (photos and their rotated copies), 'boxes' are missing faces
APPLIED = ("images_changed", "photos_changed", "boxes", "relabelled", "removed")
GREY = (114, 114, 114)  # the padding grey of ultralytics' letterbox: what the model sees as 'nothing'
HEADER = "# A copy of {src} corrected by audit_labels.py --apply missing={mode} (training images only).\n"


def parse_apply(text: str) -> str:
    """'missing=add' -> 'add'."""
    key, _, mode = text.partition("=")
    if key != "missing" or mode not in APPLY_MODES:
        raise AuditError(f"--apply takes missing={'|'.join(APPLY_MODES)}, not {text!r}")
    return mode


def link_or_copy(src: Path, dst: Path) -> None:
    """A hard link, except for a JPEG with bytes after its end, which ultralytics would 'restore' in
    place: through a link, that would edit the input."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix.lower() in (".jpg", ".jpeg") and not ends_cleanly(src, "JPEG"):
        shutil.copy2(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def grey_out(image: np.ndarray, boxes: Iterable[np.ndarray], keep: Iterable[np.ndarray]) -> np.ndarray:
    """`image` with `boxes` filled grey, except where they overlap `keep` (labelled faces stay seen)."""
    mask = np.zeros(image.shape[:2], bool)
    for value, group in ((True, boxes), (False, keep)):
        for x1, y1, x2, y2 in (np.round(b).astype(int).clip(0) for b in group):
            mask[y1:y2, x1:x2] = value
    out = image.copy()
    out[mask] = GREY
    return out


def yolo_lines(candidates: Iterable[Candidate]) -> str:
    return "".join(f"{c.cls} {c.cx:.6f} {c.cy:.6f} {c.w:.6f} {c.h:.6f}\n" for c in candidates)


def same_box(line: str, c: Candidate) -> bool:
    """Whether a label line is the box of `c` (wrong_class and unfound candidates are label boxes)."""
    parts = line.split()
    return len(parts) == 5 and np.allclose([float(v) for v in parts[1:]], [c.cx, c.cy, c.w, c.h], atol=1e-4)


def fix_lines(text: str, fixes: list[Candidate]) -> str:
    """A label's lines with each accepted wrong_class box given the model's class and each accepted
    unfound box removed."""
    out = []
    for line in text.splitlines():
        fix = next((c for c in fixes if same_box(line, c)), None)
        if fix is None:
            out.append(line)
        elif fix.kind == "wrong_class":
            out.append(f"{fix.cls} {line.split(maxsplit=1)[1]}")
    return "".join(f"{ln}\n" for ln in out)


def copy_image(image: Path, dst: Path, label: Path, dst_label: Path, found: list[Candidate], mode: str) -> None:
    """One image and its label, changed by `found` (its candidates to apply): missing ones as `mode`
    says, wrong_class and unfound ones in the label."""
    missing = [c for c in found if c.kind == "missing" and mode != "none"]
    fixes = [c for c in found if c.kind != "missing"]
    if missing and mode == "ignore":
        pixels = cv2.imread(str(image))
        height, width = pixels.shape[:2]
        labelled = load_labels(image, width, height).xyxy
        dst.parent.mkdir(parents=True, exist_ok=True)
        greyed = grey_out(pixels, [c.xyxy(width, height) for c in missing], labelled)
        save_rgb(Image.fromarray(np.ascontiguousarray(greyed[:, :, ::-1])), dst)  # the merge's own writer
    else:
        link_or_copy(image, dst)
    added = missing if mode == "add" else []
    if added or fixes:
        text = label.read_text(encoding="utf-8") if label.is_file() else ""
        dst_label.parent.mkdir(parents=True, exist_ok=True)
        dst_label.write_text(fix_lines(text, fixes) + yolo_lines(added))
    elif label.is_file():
        link_or_copy(label, dst_label)


def copy_split(
    root: Path, content: dict[str, Any], split: str, dest: Path, chosen: dict[str, list], mode: str
) -> Counter:
    """Copy a split into dest/images/<split> and dest/labels/<split>; returns the images changed (and of
    them the photos, the rest being their rotated copies), the missing faces boxed or greyed ('boxes') and
    the label boxes relabelled and removed."""
    folder = root / str(content[split])
    counts = Counter(dict.fromkeys(APPLIED, 0))
    images = split_images(root, content, split)
    copies = rotated_copies(images)
    for image in images:
        rel = image.relative_to(folder)
        found = chosen.get(image.relative_to(root).as_posix(), []) if split == "train" else []
        label = Path(img2label_paths([str(image)])[0])
        dst_label = dest / "labels" / split / rel.with_suffix(".txt")
        copy_image(image, dest / "images" / split / rel, label, dst_label, found, mode)
        kinds = Counter(c.kind for c in found if c.kind != "missing" or mode != "none")
        counts.update(
            images_changed=int(bool(kinds)),
            photos_changed=int(bool(kinds) and image not in copies),
            boxes=kinds["missing"],
            relabelled=kinds["wrong_class"],
            removed=kinds["unfound"],
        )
    return counts


def write_corrected(
    root: Path, content: dict[str, Any], candidates: list[Candidate], mode: str, out: Path, exist_ok: bool = False
) -> dict[str, Any]:
    """Build the copy, `candidates` applied, beside `out` and move it into place when complete; an
    existing `out` is replaced only with `exist_ok` and only when this project made it."""
    out = Path(out)
    check_output(out, exist_ok, [root], replace=True)
    chosen: dict[str, list[Candidate]] = defaultdict(list)
    for c in onto_copies(candidates, split_images(root, content, "train") if content.get("train") else [], root):
        chosen[c.image].append(c)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    try:
        mark(tmp, DATASET)
        splits = [s for s in SPLITS if content.get(s)]
        counts = {s: copy_split(root, content, s, tmp, chosen, mode) for s in splits}
        data = {**{s: f"images/{s}" for s in splits}, "names": content["names"]}
        (tmp / "data.yaml").write_text(HEADER.format(src=root, mode=mode) + yaml.safe_dump(data, sort_keys=False))
        publish(tmp, out, DATASET, ULTRALYTICS_CACHES)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    applied = counts.get("train", dict.fromkeys(APPLIED, 0))
    return {"out": str(out), "data": str(out / "data.yaml"), "mode": mode, **applied}
