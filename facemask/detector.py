"""The model behind detect.py and the app: any ultralytics-loadable weights (.pt, .onnx, OpenVINO,
TorchScript, ...) in, supervision `Detections` out, one image at a time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import supervision as sv

from facemask.checkpoints import LOAD_ERRORS, USE_HINT, check_device, load_error, load_model, precision_args
from facemask.input_size import resolve


@dataclass
class DetectorSettings:
    """The knobs YOLOv5's detect.py users know."""

    imgsz: int | None = None  # None: the size the model was trained or exported at (input_size)
    conf: float = 0.25
    iou: float = 0.45
    max_det: int = 1000
    device: str | None = None
    classes: list[int] | None = None
    half: bool = False
    augment: bool = False  # test-time augmentation: flips and scales (ultralytics' augment=True)
    tile: bool = False  # sliced inference (sahi): overlapping tiles at the model's size, plus the whole image
    tile_overlap: float = 0.2  # share of a tile its neighbour overlaps


@dataclass
class Prediction:
    detections: sv.Detections
    speed_ms: dict[str, float] = field(default_factory=dict)  # preprocess, inference, postprocess


class Detector:
    def __init__(self, weights: str | Path, settings: DetectorSettings | None = None, hint: str = USE_HINT):
        """`hint`: what to pass instead of a model that cannot be loaded (the app has no --weights)."""
        self.settings = settings or DetectorSettings()
        check_device(self.settings.device)
        self.model = load_model(weights, hint=hint)
        try:  # an export is loaded here, when its names are first asked for: a damaged one fails now
            self.names: dict[int, str] = dict(self.model.names)
        except LOAD_ERRORS as e:
            raise load_error(weights, e, hint) from e
        self.input_size = resolve(self.settings.imgsz, self.model, weights)
        self.size_note = self.input_size.describe(weights)  # what front ends print: the size and why

        self._slicer = None  # the sahi model around self.model, made when tiles are first asked for

    def __call__(self, image_bgr: np.ndarray) -> Prediction:
        if self.settings.tile:
            return self._sliced(image_bgr)
        s = self.settings
        result = self.model.predict(
            image_bgr, imgsz=self.input_size.imgsz, conf=s.conf, iou=s.iou, max_det=s.max_det, device=s.device,
            classes=s.classes, augment=s.augment, verbose=False, **precision_args(s.half),
        )[0]  # fmt: skip
        return Prediction(sv.Detections.from_ultralytics(result), dict(result.speed))

    def _sliced(self, image_bgr: np.ndarray) -> Prediction:
        """Small faces: the image cut into overlapping tiles of the model's own size, each detected at full
        resolution, plus one pass over the whole image for large faces, merged by sahi. A face cut by a tile's
        edge gives a box inside the whole face's box: sahi's greedy merge by intersection over the smaller
        box (IOS >= 0.5) joins the two, where NMS by IoU would keep both."""
        from sahi import AutoDetectionModel
        from sahi.predict import get_sliced_prediction

        s, side = self.settings, self.input_size.imgsz
        if self._slicer is None:
            self._slicer = AutoDetectionModel.from_pretrained(
                model_type="ultralytics", model=self.model, confidence_threshold=s.conf, image_size=side,
                device=s.device or "cpu",
            )  # fmt: skip
        self._slicer.confidence_threshold = s.conf  # the app changes thresholds between calls
        start = time.perf_counter()
        result = get_sliced_prediction(
            np.ascontiguousarray(image_bgr[:, :, ::-1]), self._slicer, slice_height=side, slice_width=side,
            overlap_height_ratio=s.tile_overlap, overlap_width_ratio=s.tile_overlap, perform_standard_pred=True,
            postprocess_type="GREEDYNMM", postprocess_match_metric="IOS", postprocess_match_threshold=0.5, verbose=0,
        )  # fmt: skip
        found = [p for p in result.object_prediction_list if s.classes is None or p.category.id in s.classes]
        found = sorted(found, key=lambda p: -p.score.value)[: s.max_det]
        detections = sv.Detections(
            xyxy=np.array([p.bbox.to_xyxy() for p in found], dtype=float).reshape(-1, 4),
            confidence=np.array([p.score.value for p in found], dtype=float),
            class_id=np.array([p.category.id for p in found], dtype=int),
        )
        detections.data["class_name"] = np.array([self.names[int(c)] for c in detections.class_id])
        return Prediction(detections, {"sliced": (time.perf_counter() - start) * 1000})
