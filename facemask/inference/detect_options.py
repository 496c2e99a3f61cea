"""detect.py's options, each default written once here: detect.run() fills DetectOptions from its keywords
and parse_opt() makes a --flag of each field, whose help and argparse type are the field's metadata. The
model's knobs take their defaults from PredictOptions and DetectorSettings (the app's too); the events' flags
are EventOptions' (facemask/events/options.py, a stage above this one)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from facemask.cli import checked, float_range, image_size, int_range, option, positive_float, positive_int, unit_float
from facemask.inference.detector import DetectorSettings, PredictOptions
from facemask.inference.media import STREAM_TIMEOUT_S
from facemask.inference.outputs import SaveOptions
from facemask.inference.tracker import TRACKERS, check_tracker
from facemask.inference.zones import Zone
from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR, RUNS_DIR

#: The flags of the model and its thresholds, which prelabel.py shares with detect.py.
MODEL_FLAGS = ("weights", "imgsz", "large_img", "conf_thres", "iou_thres", "max_det", "agnostic_nms", "device")


def _zone(spec: str) -> str:
    """--zone checked when parsed; kept as the text, as YOLOv5 users pass it (detect.run parses it again)."""
    Zone.parse(spec)
    return spec


@dataclass
class DetectOptions:
    """Everything detect.run() takes but the events' options (detect.run documents each)."""

    weights: str | Path = option(DEFAULT_WEIGHTS, "model: .pt or an export (.onnx, ...)", type=Path)
    source: str | Path = option(EXAMPLES_DIR, "file, folder, glob, list.txt, video, 0, URL, .streams")
    imgsz: int | None = option(
        DetectorSettings.imgsz,
        "input size (default: the size the model was trained or exported at)",
        type=image_size,
        aliases=("--img", "--img-size"),
    )
    large_img: int = option(
        DetectorSettings.large_imgsz,
        "photos longer than this on their long side run at this size, when the model's own is smaller "
        "and no --imgsz is given (crowds: more of their small faces); 0: off",
        type=int_range(0, 8192),
    )
    conf_thres: float = option(PredictOptions.conf, "confidence threshold (0-1)", type=unit_float)
    iou_thres: float = option(PredictOptions.iou, "NMS IoU threshold (0-1)", type=unit_float)
    max_det: int = option(PredictOptions.max_det, "maximum faces per image", type=positive_int())
    agnostic_nms: bool = option(
        PredictOptions.agnostic_nms,
        "NMS across classes: one face, one box (--no-agnostic-nms: per class, as YOLOv5's default)",
        action=argparse.BooleanOptionalAction,
    )
    device: str | None = option(DetectorSettings.device, "cpu, 0, ...")
    view_img: bool = option(False, "show results in a window")
    save_txt: bool = option(False, "YOLO labels in labels/<stem>.txt")
    save_conf: bool = option(False, "add confidences to --save-txt labels")
    save_json: bool = option(False, "every detection in predictions.json")
    save_crop: bool = option(False, "face crops in crops/<class>/")
    nosave: bool = option(False, "do not save annotated images or videos")
    classes: list[int] | None = option(
        None, "keep only these class ids (0 Mask, 1 No Mask)", nargs="+", type=int_range(0)
    )
    project: str | Path = option(RUNS_DIR / "detect", "save to project/name")
    name: str = option("exp", "save to project/name")
    exist_ok: bool = option(False, "reuse project/name instead of name2, ...")
    line_thickness: int = option(2, "box thickness (pixels)", type=positive_int())
    hide_labels: bool = option(False, "draw boxes without class names")
    hide_conf: bool = option(False, "draw boxes without confidences")
    half: bool = option(DetectorSettings.half, "FP16 inference (GPU)")
    augment: bool = option(PredictOptions.augment, "test-time augmentation (flips, scales): ~2x slower")
    tile: bool = option(PredictOptions.tile, "small faces: sliced inference over tiles of the model's size")
    tile_overlap: float = option(PredictOptions.tile_overlap, "overlap of neighbouring tiles", type=float_range(0, 0.9))
    vid_stride: int = option(1, "use every n-th video frame", type=positive_int())
    stream_timeout: float = option(
        STREAM_TIMEOUT_S, "seconds a silent stream is waited for, opening or between frames", type=positive_float()
    )
    blur_faces: bool = option(False, "blur every detected face in saved images and videos")
    track: bool = option(False, "videos/streams: follow faces, count people, one verdict each")
    tracker: str = option(TRACKERS[0], f"{', '.join(TRACKERS)}, a yaml", type=checked(check_tracker))
    min_track_frames: int = option(5, "frames a face must be seen to count", type=positive_int())
    zone: str | None = option(
        None,
        "count only people entering this polygon (x1,y1,x2,y2,x3,y3,...) or crossing this "
        "line (x1,y1,x2,y2); pixels, or fractions of the frame if all <= 1",
        type=checked(_zone),
    )
    interval: float = option(60.0, "seconds per row of the compliance CSV", type=positive_float())

    def settings(self) -> DetectorSettings:
        """How the Detector is loaded and called."""
        return DetectorSettings(
            imgsz=self.imgsz,
            large_imgsz=self.large_img or None,
            conf=self.conf_thres,
            iou=self.iou_thres,
            max_det=self.max_det,
            agnostic_nms=self.agnostic_nms,
            device=self.device,
            classes=self.classes,
            half=self.half,
            augment=self.augment,
            tile=self.tile,
            tile_overlap=self.tile_overlap,
        )

    def save(self) -> SaveOptions:
        """What the OutputWriter writes."""
        return SaveOptions(
            images=not self.nosave,
            txt=self.save_txt,
            conf=self.save_conf,
            json=self.save_json,
            crop=self.save_crop,
            blur_faces=self.blur_faces,
        )
