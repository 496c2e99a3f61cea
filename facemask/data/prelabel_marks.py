"""The mark prelabel.py leaves beside the label files it writes (a digest of each), so that `prepare_data.py
--add` can tell a folder of the model's boxes that nobody reviewed from a labelled set: merged as they are,
the model's own misses would be taught back to it as background. Label Studio needs none: its review is an
export, a new file, and a folder without one is refused for having no labels (facemask.data.class_maps)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

MARK = ".prelabels.json"
#: How each format's folder is reviewed, said when none of its labels has been.
REVIEW = {
    "cvat": "correct the boxes in CVAT and export 'CVAT for images 1.1' into this folder",
    "voc": "open the folder in LabelImg (Pascal VOC), correct the boxes and save each photo",
    "yolo": "open the folder in LabelImg (YOLO), correct the boxes and save each photo",
}


def mark(out: Path, files: Iterable[Path], fmt: str) -> None:
    """Record the digest of each label file prelabel.py wrote into `out`, for a format reviewed in place."""
    if fmt in REVIEW:
        digests = {f.relative_to(out).as_posix(): _digest(f) for f in files}
        (out / MARK).write_text(json.dumps({"format": fmt, "files": digests}, indent=1), encoding="utf-8")


def unreviewed(root: Path) -> tuple[int, int]:
    """(label files still as prelabel.py wrote them, label files it wrote) in `root`; (0, 0) for a set it
    did not write. A file deleted since counts as changed: the photo's labels were redone."""
    try:
        digests = json.loads((root / MARK).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0
    same = sum(1 for rel, digest in digests.items() if (root / rel).is_file() and _digest(root / rel) == digest)
    return same, len(digests)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
