"""The model behind detect.py and the app: any ultralytics-loadable weights (.pt, .onnx, OpenVINO,
TorchScript, ...) in, supervision `Detections` out, one image at a time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import supervision as sv

from facemask.confidence import DEFAULT_CONF
from facemask.model.checkpoints import LOAD_ERRORS, USE_HINT, check_device, load_error, load_model, precision_args
from facemask.model.input_size import LARGE_PHOTO, resolve

if TYPE_CHECKING:
    from sahi.prediction import ObjectPrediction

#: With tiles, a box whose area lies at least this much inside another of its class is a piece of that face,
#: cut by a tile's edge (Detector._sliced).
PIECE_IOS = 0.5


@dataclass(frozen=True)
class PredictOptions:
    """What may change from one call to the next (the app's sliders and switches). Passed with each call
    and never stored, so callers sharing one Detector (the app's visitors) cannot change each other's results."""

    conf: float = DEFAULT_CONF  # facemask.confidence: val.py counts recall at it too
    iou: float = 0.45
    max_det: int = 1000
    classes: tuple[int, ...] | None = None
    # One face, one verdict: a Mask box and a No Mask box on the same face are one face, the likelier kept
    # (YOLOv5's --agnostic-nms, on here: per-class NMS counted such a face twice, once as each).
    agnostic_nms: bool = True
    augment: bool = False  # test-time augmentation: flips and scales (ultralytics' augment=True)
    tile: bool = False  # sliced inference (sahi): overlapping tiles at the model's size, plus the whole image
    tile_overlap: float = 0.2  # share of a tile its neighbour overlaps


@dataclass
class DetectorSettings:
    """The knobs YOLOv5's detect.py users know: how the model is loaded (imgsz, device, half) and the
    PredictOptions its calls use unless they pass their own."""

    imgsz: int | None = None  # None: the size the model was trained or exported at (input_size)
    large_imgsz: int | None = LARGE_PHOTO  # photos longer than this run at it (input_size); None or 0: off
    conf: float = PredictOptions.conf
    iou: float = PredictOptions.iou
    max_det: int = PredictOptions.max_det
    agnostic_nms: bool = PredictOptions.agnostic_nms
    device: str | None = None
    classes: list[int] | None = None
    half: bool = False
    augment: bool = PredictOptions.augment
    tile: bool = PredictOptions.tile
    tile_overlap: float = PredictOptions.tile_overlap

    def options(self) -> PredictOptions:
        """These settings' per-call knobs, frozen."""
        values = {f.name: getattr(self, f.name) for f in fields(PredictOptions)}
        return PredictOptions(**{**values, "classes": None if self.classes is None else tuple(self.classes)})


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
        try:  # an export is read (its size) and loaded (its names) here: a damaged one fails now
            self.input_size = resolve(self.settings.imgsz, self.model, weights, self.settings.large_imgsz)
            self.names: dict[int, str] = self._load_names()
        except LOAD_ERRORS as e:
            raise load_error(weights, e, hint) from e
        self.size_note = self.input_size.describe(weights)  # what front ends print: the size and why

        self._slicer = None  # the sahi model around self.model, made when tiles are first asked for
        self._lock = threading.Lock()

    def _load_names(self) -> dict[int, str]:
        """The class names. An export has them once it is loaded, which ultralytics does in its predictor:
        its `names` alone would load the export into a predictor of its own and throw it away, and the first
        detection would load it again. So an export's predictor is made here, by one pass over a blank image,
        with the device that every later pass asks for."""
        if not hasattr(self.model.model, "names"):
            blank = np.zeros((self.input_size.imgsz, self.input_size.imgsz, 3), np.uint8)
            self.model.predict(
                blank,
                imgsz=self.input_size.imgsz,
                device=self.settings.device,
                verbose=False,
                **precision_args(self.settings.half),
            )
        return dict(self.model.names)

    def __call__(self, image_bgr: np.ndarray, options: PredictOptions | None = None) -> Prediction:
        """Faces in one BGR image, found with `options` (by default those of the settings). Safe from several
        threads: calls take turns, as an ultralytics model is not thread-safe (its predictor keeps each
        call's arguments and batch on itself)."""
        o = options or self.settings.options()
        with self._lock:
            if o.tile:
                return self._sliced(image_bgr, o)
            result = self.model.predict(
                image_bgr,
                imgsz=self.input_size.for_image(*image_bgr.shape[:2]),
                conf=o.conf,
                iou=o.iou,
                agnostic_nms=o.agnostic_nms,
                max_det=o.max_det,
                device=self.settings.device,
                classes=None if o.classes is None else list(o.classes),
                augment=o.augment,
                verbose=False,
                **precision_args(self.settings.half),
            )[0]
        return Prediction(sv.Detections.from_ultralytics(result), dict(result.speed))

    def _sliced(self, image_bgr: np.ndarray, o: PredictOptions) -> Prediction:
        """Small faces: the image cut into overlapping tiles of the model's own size, each detected at full
        resolution, plus one pass over the whole image for large faces, merged by sahi. The user's IoU means
        here what it means in a plain pass: boxes of one class that overlap by more than `o.iou` are one face.
        So every pass runs its NMS at `o.iou` (sahi gives the model its confidence but not an IoU), and a last
        NMS at `o.iou` (tile_nms) removes what overlaps across passes. Before it, sahi's greedy merge joins a
        face cut by a tile's edge, whose piece lies inside the whole face's box (by intersection over the
        smaller box, IOS: NMS by IoU would keep both) - at IOS 0.5, or at `o.iou` when higher, so that a
        higher --iou keeps the overlapping faces it asks to keep while pieces (IOS near 1) are still joined."""
        from sahi import AutoDetectionModel
        from sahi.predict import get_sliced_prediction

        side = self.input_size.imgsz
        if self._slicer is None:
            self._slicer = AutoDetectionModel.from_pretrained(
                model_type="ultralytics",
                model=self.model,
                confidence_threshold=o.conf,
                image_size=side,
                device=self.settings.device,  # sahi's choice when None is ultralytics': a GPU if there is one
            )
            # and it asks each pass for the device as plain passes do: another would make ultralytics build a
            # new predictor, loading an export again, at each switch between tiles and plain passes
            self._slicer.device = self.settings.device
        self._slicer.confidence_threshold = o.conf  # this call's own (under the lock)
        self.model.overrides["iou"] = o.iou  # each pass's NMS; plain calls pass their own iou
        start = time.perf_counter()
        result = get_sliced_prediction(
            np.ascontiguousarray(image_bgr[:, :, ::-1]),
            self._slicer,
            slice_height=side,
            slice_width=side,
            overlap_height_ratio=o.tile_overlap,
            overlap_width_ratio=o.tile_overlap,
            perform_standard_pred=True,
            postprocess_type="GREEDYNMM",
            postprocess_match_metric="IOS",
            postprocess_match_threshold=max(PIECE_IOS, o.iou),
            verbose=0,
        )
        found = [p for p in result.object_prediction_list if o.classes is None or p.category.id in o.classes]
        detections = tile_nms(found, self.names, o.iou, o.agnostic_nms)[: o.max_det]
        return Prediction(detections, {"sliced": (time.perf_counter() - start) * 1000})


def tile_nms(found: list[ObjectPrediction], names: dict[int, str], iou: float, agnostic: bool) -> sv.Detections:
    """sahi's predictions as Detections, best first, without the boxes that overlap a better one (of any
    class if `agnostic`, else of theirs) by more than `iou`, as ultralytics' NMS does in a plain pass."""
    found = sorted(found, key=lambda p: -p.score.value)
    detections = sv.Detections(
        xyxy=np.array([p.bbox.to_xyxy() for p in found], dtype=float).reshape(-1, 4),
        confidence=np.array([p.score.value for p in found], dtype=float),
        class_id=np.array([p.category.id for p in found], dtype=int),
    )
    detections = detections.with_nms(threshold=iou, class_agnostic=agnostic)
    detections.data["class_name"] = np.array([names[int(c)] for c in detections.class_id])
    return detections
