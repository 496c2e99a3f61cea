"""The model behind detect.py and the app: any ultralytics-loadable weights (.pt, .onnx, OpenVINO,
TorchScript, ...) in, supervision `Detections` out, one image at a time."""

from __future__ import annotations

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

    def __call__(self, image_bgr: np.ndarray) -> Prediction:
        s = self.settings
        result = self.model.predict(
            image_bgr, imgsz=self.input_size.imgsz, conf=s.conf, iou=s.iou, max_det=s.max_det, device=s.device,
            classes=s.classes, verbose=False, **precision_args(s.half),
        )[0]  # fmt: skip
        return Prediction(sv.Detections.from_ultralytics(result), dict(result.speed))
