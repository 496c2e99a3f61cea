"""Pre-label photos with the model, so that a person corrects boxes in a labelling tool instead of drawing them.

The photos of --source are copied into --out with the model's boxes in the chosen format; review them in
the tool, then merge the reviewed folder with `prepare_data.py --add`.

Usage:
    python prelabel.py --source photos/ --format labelstudio --out prelabels/ls   # tasks.json with predictions
    python prelabel.py --source photos/ --format cvat --out prelabels/cvat        # annotations.xml (CVAT 1.1)
    python prelabel.py --source photos/ --format voc --out prelabels/voc          # an .xml per photo (LabelImg)
    python prelabel.py --source photos/ --format yolo --out prelabels/yolo        # a .txt per photo + classes.txt
    python prelabel.py --source photos/ --format voc --out prelabels/voc --weights runs/train/exp/weights/best.pt \\
        --imgsz 640 --conf-thres 0.3

Then, once reviewed:
    python prepare_data.py --sources ../shared/datasets --add prelabels/voc

Python:
    from prelabel import run
    files = run(source="photos/", format="labelstudio", out="prelabels/ls")
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from facemask.cli import add_flags, run_or_fail, script_parser
from facemask.data.formats import WRITERS
from facemask.data.sources import image_files
from facemask.files import shown
from facemask.inference.detect_options import MODEL_FLAGS, DetectOptions
from facemask.inference.detector import Detector, DetectorSettings, PredictOptions
from facemask.inference.pipeline import Pipeline
from facemask.inference.sources import Source, SourceError, SourceKind
from facemask.inference.streams import iter_frames
from facemask.owned_dirs import check_output, mark
from facemask.paths import DEFAULT_WEIGHTS
from facemask.prelabel.sink import PrelabelSink

FORMATS = tuple(WRITERS)


def run(
    source: str | Path,
    format: str,
    out: str | Path,
    weights: str | Path = DEFAULT_WEIGHTS,
    imgsz: int | None = DetectorSettings.imgsz,
    large_img: int | None = DetectorSettings.large_imgsz,
    conf_thres: float = PredictOptions.conf,
    iou_thres: float = PredictOptions.iou,
    max_det: int = PredictOptions.max_det,
    agnostic_nms: bool = PredictOptions.agnostic_nms,
    device: str | None = DetectorSettings.device,
) -> list[Path]:
    """Detect faces on every photo under `source` (any depth) and write them, with copies of the photos, into
    the new folder `out` in `format` (labelstudio, cvat, voc, yolo); returns the label files written.
    `out` must not exist: it is where reviewed labels will be, and is never replaced.

    Args:
        source (str | Path): a folder of photos, searched at any depth
        format (str): the labelling tool's format: labelstudio, cvat, voc or yolo
        out (str | Path): the new folder of photo copies and their pre-labels
        weights (str | Path): the model, .pt or an export (.onnx, ...)
        imgsz (int | None): input size; None: the size the model was trained or exported at
        large_img (int | None): photos longer than this run at this size (with the model's own size); 0: off
        conf_thres (float): confidence threshold (0-1); lower it to be shown more faces to keep or delete
        iou_thres (float): NMS IoU threshold (0-1)
        max_det (int): most faces kept per photo
        agnostic_nms (bool): NMS across classes, so a face gets one box
        device (str | None): cpu, 0, 1, ...; None: a GPU if there is one"""
    if format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise SourceError(f"--source {shown(str(source))} is not a folder of photos")
    photos = [str(p) for p in image_files(source)]
    if not photos:
        raise SourceError(f"no photos in {shown(str(source))}")
    check_output(out, exist_ok=False, protected=[source, Path(weights)])
    model = {"imgsz": imgsz, "large_imgsz": large_img or None, "device": device}
    settings = DetectorSettings(conf=conf_thres, iou=iou_thres, max_det=max_det, agnostic_nms=agnostic_nms, **model)
    detector = Detector(weights, settings)
    print(
        f"Pre-labelling {len(photos)} photos of {shown(str(source))} with {shown(str(weights))} at {detector.size_note}"
    )
    mark(out, "prelabel")  # never replaced: a person's reviewed labels will be in it
    sink = PrelabelSink(format, out, source, detector.names)
    try:
        Pipeline(detector).run(iter_frames(Source(SourceKind.FOLDER, photos)), [sink])
    except KeyboardInterrupt:
        print("\nInterrupted; the photos seen so far are written.", file=sys.stderr)
    boxes = sum(len(item.classes) for item in sink.items)
    print(
        f"{boxes} boxes on {len(sink.items)} photos"
        + (f", {len(sink.skipped)} skipped" if sink.skipped else "")
        + f" -> {out}"
    )
    print(f"Next: {sink.next_steps()}; then python prepare_data.py --sources DIR --add {shlex.quote(str(out))}")
    return sink.files


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    p.add_argument("--source", type=Path, required=True, help="folder of photos (searched at any depth)")
    p.add_argument("--format", choices=FORMATS, required=True, help="the labelling tool's format")
    p.add_argument("--out", type=Path, required=True, help="new folder: photo copies and their pre-labels")
    add_flags(p, DetectOptions, MODEL_FLAGS)  # --weights, --imgsz, --conf-thres, ...: as detect.py's
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("prelabel.py", run, opt)


if __name__ == "__main__":
    main(parse_opt())
