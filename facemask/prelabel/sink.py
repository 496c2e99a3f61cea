"""The pipeline's sink for pre-labels: each photo copied into the output folder (the folder a labelling tool
opens, and `prepare_data.py --add` reads back), its boxes in the original photo's pixels, written in the
chosen format when the run ends."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from facemask.data.formats import WRITERS, ImageLabels
from facemask.data.prelabel_marks import mark
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult

#: What to do next with each format's folder (printed at the end of prelabel.py).
NEXT_STEPS = {
    "labelstudio": "Label Studio: start it with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true "
    "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={parent}, make a project with {out}/label_config.xml, add a Local "
    "Files storage for {out}, import {out}/tasks.json; review, then export JSON into {out}",
    "cvat": "CVAT: make a task with the photos in {out}, Actions -> Upload annotations -> CVAT 1.1 -> "
    "{out}/annotations.xml; review, then export 'CVAT for images 1.1' (no images) and put its annotations.xml in {out}",
    "voc": "LabelImg: Open Dir {out} (Pascal VOC); review and save each photo",
    "yolo": "LabelImg: Open Dir {out} (YOLO; classes.txt is there); review and save each photo",
}


class PrelabelSink(BaseSink):
    def __init__(self, fmt: str, out: Path, source_root: Path, names: dict[int, str]):
        """`names`: the model's class names by id, as the labels are written."""
        self.fmt, self.out, self.root = fmt, Path(out), Path(source_root).resolve()
        self.names = names
        self.items: list[ImageLabels] = []
        self.skipped: list[str] = []

    def write(self, result: FrameResult) -> None:
        frame, d = result.frame, result.detections
        rel = Path(frame.source).resolve().relative_to(self.root).as_posix()
        _copy(Path(frame.source), self.out / rel)
        height, width = frame.image.shape[:2]
        size = (round(width / frame.scale), round(height / frame.scale))  # the photo's own pixels
        boxes = np.asarray(d.xyxy, dtype=float).reshape(-1, 4) / frame.scale
        classes = [self.names[int(c)] for c in d.class_id]
        scores = [float(c) for c in (d.confidence if d.confidence is not None else np.ones(len(d)))]
        self.items.append(ImageLabels(rel, size, boxes, classes, scores))

    def skip(self, frame: Frame) -> None:
        self.skipped.append(frame.source)
        print(f"skipped {frame.source}: {frame.error}")

    def close(self) -> None:
        """Write the labels of every photo seen, also when the run was interrupted."""
        self.files = WRITERS[self.fmt](self.items, [self.names[i] for i in sorted(self.names)], self.out)
        mark(self.out, self.files, self.fmt, len(self.items))  # so that the merge can tell if anyone reviewed them

    def next_steps(self) -> str:
        return NEXT_STEPS[self.fmt].format(out=self.out, parent=self.out.resolve().parent)


def _copy(src: Path, dst: Path) -> None:
    """A copy, not a link: a tool that saves over a photo must not change the user's original."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
