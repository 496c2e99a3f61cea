"""The tracker adapter: ultralytics' ByteTrack or BoT-SORT, fed and answering supervision Detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import supervision as sv

TRACKERS = ("bytetrack.yaml", "botsort.yaml")


class _TrackerInput:
    """Detections in the shape ultralytics' trackers read: conf, cls, xywh, boolean indexing."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray):
        self.xyxy, self.conf, self.cls = xyxy, conf, cls

    @property
    def xywh(self) -> np.ndarray:
        x1, y1, x2, y2 = self.xyxy.T
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> _TrackerInput:
        return _TrackerInput(self.xyxy[index], self.conf[index], self.cls[index])


def check_tracker(config: str) -> str:
    """One of ultralytics' trackers by name, or a tracker yaml that exists; else ValueError."""
    if Path(config).name not in TRACKERS and not Path(config).is_file():
        raise ValueError(f"--tracker must be one of {', '.join(TRACKERS)} or a tracker yaml file, not {config}")
    return config


class FaceTracker:
    """An ultralytics tracker (from its yaml) that takes and returns supervision Detections."""

    def __init__(self, config: str = "bytetrack.yaml", frame_rate: float = 30.0):
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(check_tracker(config))))
        cfg.with_reid, cfg.device = False, "cpu"  # faces are matched by motion and overlap, not appearance
        # The yaml's track_buffer is in frames at 30 fps: keep lost tracks for the same time at this rate.
        cfg.track_buffer = self.lost_frames = max(1, round(cfg.track_buffer * frame_rate / 30.0))
        self.tracker = TRACKER_MAP[cfg.tracker_type](args=cfg)

    def forget(self) -> None:
        """Drop every track (a camera was lost: no one in view before it is followed after it). Not
        ultralytics' reset(), which also starts the ids again, so a new track could take a settled one's id."""
        self.tracker.tracked_stracks, self.tracker.lost_stracks, self.tracker.removed_stracks = [], [], []

    def update(self, detections: sv.Detections, image: np.ndarray | None = None) -> sv.Detections:
        """All the detections, with `tracker_id` set: the track's id, or -1 for a face not (yet) in a
        confirmed track (a new face's first frame, a low-confidence one)."""
        tracks = self.tracker.update(
            _TrackerInput(detections.xyxy, detections.confidence, detections.class_id.astype(float)), image
        )
        ids = np.full(len(detections), -1, dtype=int)
        if len(tracks):
            ids[tracks[:, 7].astype(int)] = tracks[:, 4].astype(int)
        detections.tracker_id = ids
        return detections
