"""The mark prelabel.py leaves beside the label files it writes (a digest of each), so that `prepare_data.py
--add` can tell a folder of the model's boxes that nobody reviewed from a labelled set: merged as they are,
the model's own misses would be taught back to it as background. Label Studio needs none: its review is an
export, a new file, and a folder without one is refused for having no labels (facemask.data.class_maps)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MARK = ".prelabels.json"
#: How each format's folder is reviewed, said when none of its labels has been.
REVIEW = {
    "cvat": "correct the boxes in CVAT and export 'CVAT for images 1.1' into this folder",
    "voc": "open the folder in LabelImg (Pascal VOC), correct the boxes and save each photo",
    "yolo": "open the folder in LabelImg (YOLO), correct the boxes and save each photo",
}


@dataclass(frozen=True)
class Unreviewed:
    """How much of a folder is still prelabel.py's: label files unchanged of those it wrote, and the photos
    it labelled (a CVAT folder holds them all in one file)."""

    same: int = 0
    written: int = 0
    photos: int = 0


def mark(out: Path, files: Iterable[Path], fmt: str, photos: int) -> None:
    """Record the digest of each label file prelabel.py wrote into `out`, for a format reviewed in place."""
    if fmt in REVIEW:
        digests = {f.relative_to(out).as_posix(): _digest(f) for f in files}
        record = {"format": fmt, "photos": photos, "files": digests}
        (out / MARK).write_text(json.dumps(record, indent=1), encoding="utf-8")


def unreviewed(root: Path) -> Unreviewed:
    """What of `root` is as prelabel.py wrote it; nothing for a set it did not write, or whose mark was
    deleted (a reviewer's way to say every box was right). A file deleted since counts as changed."""
    try:
        record = json.loads((root / MARK).read_text(encoding="utf-8"))
        digests, photos = dict(record["files"]), int(record["photos"])
    except (OSError, ValueError, KeyError, TypeError):
        return Unreviewed()
    same = sum(1 for rel, digest in digests.items() if (root / rel).is_file() and _digest(root / rel) == digest)
    return Unreviewed(same, len(digests), photos)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
