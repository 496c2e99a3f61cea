"""What detect.py saves: annotated images and videos, YOLO txt labels, one JSON of every detection,
face crops. Everything is written as it comes (the JSON too), so nothing accumulates in memory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import supervision as sv

from facemask.data.sources import IMAGE_SUFFIXES
from facemask.files import source_label
from facemask.inference.annotate import blur_only
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult


def detection_records(detections: sv.Detections, names: dict[int, str], scale: float = 1.0) -> list[dict[str, Any]]:
    """Detections as JSON-ready dicts; `scale` maps boxes back to original pixels."""
    records = [
        {
            "class_id": int(c),
            "class": names[int(c)],
            "confidence": round(float(p), 4),
            "xyxy": [round(float(v) / scale, 1) for v in box],
        }
        for box, c, p in zip(detections.xyxy, detections.class_id, detections.confidence, strict=True)
    ]
    if detections.tracker_id is not None:
        for record, t in zip(records, detections.tracker_id, strict=True):
            if t >= 0:  # -1: not in a confirmed track
                record["track_id"] = int(t)
    return records


@dataclass(frozen=True)
class SaveOptions:
    """What detect.py writes into its run folder (--nosave, --save-txt, --save-conf, --save-json, --save-crop,
    --blur-faces): one object, so a caller names what it wants instead of lining up booleans."""

    images: bool = True  # annotated images and videos
    txt: bool = False  # YOLO labels in labels/<stem>.txt
    conf: bool = False  # with a confidence on each label line
    json: bool = False  # every detection in predictions.json
    crop: bool = False  # face crops in crops/<class>/
    blur_faces: bool = False  # crops blurred as the annotated images are


class OutputWriter(BaseSink):
    """detect.py's files, as a pipeline sink."""

    def __init__(
        self, save_dir: Path, names: dict[int, str], save: SaveOptions | None = None, *, concurrent: bool = False
    ):
        """`concurrent`: videos arrive interleaved (several cameras), so each keeps its writer open to the end;
        otherwise a video's file is closed when the next source starts."""
        self.dir, self.names, self.concurrent = save_dir, names, concurrent
        self.save = save or SaveOptions()
        self._stems: dict[str, str] = {}  # source -> unique output stem
        self._taken: set[str] = set()  # every stem given out
        self._next: dict[str, int] = {}  # name -> the suffix to try first for its next duplicate
        self._videos: dict[str, cv2.VideoWriter] = {}  # open video files, by source
        self._json = None
        if self.save.txt:
            (save_dir / "labels").mkdir(parents=True, exist_ok=True)
        if self.save.json:
            self._json = (save_dir / "predictions.json").open("w", encoding="utf-8")
            self._json.write("[")
            self._first = True

    def stem(self, frame: Frame) -> str:
        """The input's stem, made unique when two inputs share one (a glob over several folders): the first
        free of name, name_2, name_3, ... Bytes of the name that are not UTF-8 become U+FFFD: OpenCV crashes
        on a path it cannot encode. O(1) a file on average (a rescan of every stem given out made 8,000 files
        take a second): a name's suffixes are tried from where its last search stopped, as stems are never freed."""
        if frame.source not in self._stems:
            name = os.fsencode(frame.name).decode("utf-8", "replace")
            stem, n = name, self._next.get(name, 2)
            while stem in self._taken:
                stem, n = f"{name}_{n}", n + 1
            self._next[name] = n
            self._taken.add(stem)
            self._stems[frame.source] = stem
        return self._stems[frame.source]

    def write(self, result: FrameResult) -> None:
        frame, detections, counts, annotated = result.frame, result.detections, result.counts, result.annotated
        stem = self.stem(frame)
        label_stem = f"{stem}_{frame.index}" if frame.is_video else stem
        if self.save.images and annotated is not None:
            if frame.is_video:
                self._video_frame(frame, stem, annotated)
            else:
                suffix = Path(frame.source).suffix.lower()
                cv2.imwrite(str(self.dir / f"{stem}{suffix if suffix in IMAGE_SUFFIXES else '.jpg'}"), annotated)
        if self.save.txt:
            self._txt(self.dir / "labels" / f"{label_stem}.txt", frame, detections)
        if self._json is not None:
            self._json_record(frame, detections, counts)
        if self.save.crop and len(detections):
            self._crops(frame, label_stem, detections)

    def _video_frame(self, frame: Frame, stem: str, annotated: np.ndarray) -> None:
        if frame.source not in self._videos:
            if not self.concurrent:
                self._close_videos()
            h, w = annotated.shape[:2]
            path = self.dir / f"{stem}.mp4"
            fps = (frame.fps or 25.0) / frame.stride  # plays at the source's speed whatever the --vid-stride
            self._videos[frame.source] = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        self._videos[frame.source].write(annotated)

    def _txt(self, path: Path, frame: Frame, detections: sv.Detections) -> None:
        """`cls cx cy w h [conf]`, normalised; an empty file when nothing was found."""
        h, w = frame.image.shape[:2]
        lines = []
        for (x1, y1, x2, y2), c, p in zip(detections.xyxy, detections.class_id, detections.confidence, strict=True):
            row = f"{int(c)} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"
            lines.append(row + (f" {p:.4f}" if self.save.conf else "") + "\n")
        path.write_text("".join(lines))

    def _json_record(self, frame: Frame, detections: sv.Detections, counts: dict[str, int]) -> None:
        h, w = frame.image.shape[:2]
        record: dict[str, Any] = {"source": source_label(frame.source)}
        if frame.is_video:
            record["frame"] = frame.index
        record.update(
            width=round(w / frame.scale),
            height=round(h / frame.scale),
            counts=counts,
            detections=detection_records(detections, self.names, frame.scale),
        )
        self._json.write(("\n" if self._first else ",\n") + json.dumps(record))
        self._first = False

    def _crops(self, frame: Frame, stem: str, detections: sv.Detections) -> None:
        image = blur_only(frame.image, detections) if self.save.blur_faces else frame.image
        for i, ((x1, y1, x2, y2), c) in enumerate(zip(detections.xyxy.astype(int), detections.class_id, strict=True)):
            folder = self.dir / "crops" / self.names[int(c)]
            folder.mkdir(parents=True, exist_ok=True)
            crop = image[max(0, y1) : y2, max(0, x1) : x2]
            if crop.size:
                cv2.imwrite(str(folder / f"{stem}_{i}.jpg"), crop)

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        """A tracked source has ended (one of several read at once): its video is finished now, not at the end."""
        writer = self._videos.pop(source, None)
        if writer is not None:
            writer.release()

    def _close_videos(self) -> None:
        for writer in self._videos.values():
            writer.release()
        self._videos.clear()

    def close(self) -> None:
        """Finish the open videos and the JSON array; safe to call twice."""
        self._close_videos()
        if self._json is not None:
            self._json.write("\n]\n")
            self._json.close()
            self._json = None
