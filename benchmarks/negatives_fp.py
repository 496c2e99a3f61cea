"""False detections on photos without faces: a benchmark, not a test.

There is no folder of faceless photos on an offline machine, so this one cuts them from the merged
dataset itself: for each photo of the chosen splits (default val and test) and sources (default
andrewmvd and aditya276, whose labels are close to exhaustive; --all-sources adds sergiovirahonda,
whose crowd faces are often left unboxed), square candidates at the four corners and the four edge
midpoints, 1/2 and 1/3 of the photo's short side (at least --min-side px), that touch no label box
grown by 30% on each side; at most --per-photo of them, not overlapping each other. A face finder that
shares nothing with the model, OpenCV's Haar frontal-face cascade at a permissive setting, then drops
the crops where it sees a face (an unlabelled one, or one cut by the crop's edge); how many it dropped
is printed, and the first of them are drawn in --out/face_finder_dropped.png. OpenCV 5 no longer has
CascadeClassifier, so the cascade runs in numpy (benchmarks/haar_cascade.py). Its XML comes from OpenCV 4's
cv2.data.haarcascades, Debian's opencv-data (apt-get install opencv-data) or --haar; without one the
crops are not filtered.

Each --weights (several allowed, e.g. an export beside the .pt) runs over the crops through the
Pipeline at detect.py's confidence (0.25); the second column keeps the detections of 0.5 and above (the same as a
run at 0.5). The table gives, per source, the crops, the false detections per faceless photo and the
share of crops with any detection, and the same for the crops the face finder dropped (much higher
figures there would mean it removed the busy backgrounds, not faces). The worst crops, their false
boxes drawn, are written as a grid to --out/worst_<weights>.png, so a person can see what the model
takes for a face.

--save-train DIR writes faceless crops of the TRAIN split's photos to DIR instead, for
`prepare_data.py --negatives DIR`. Only train crops are offered: prepare_data.py merges everything anew
and splits the negatives as a source of their own, and the merge's copy detection ties a negative to
the photo it was cut from only if it finds the copy (and then drops it, as a copy of a photo with
faces). It finds few: 22 of the 178 val/test crops (ORB keypoints of a zoomed-in corner rarely match
enough of the whole photo's). One it does not find goes to any split, so a crop of a test photo could
be trained on: that would leak the test photo. A train crop that lands in val or test shows background
the model was trained on, which flatters that split's false-detection figure a little; the splits of
the face photos do not change (each source is split on its own). Mind --negatives-share: at its
default 0.1, about 320 negatives are allowed beside this dataset's photos, and the train split gives
694 crops (--per-photo 1 gives fewer).

Usage:
    python -m benchmarks.negatives_fp                                       # weights/face_masks.pt
    python -m benchmarks.negatives_fp --weights weights/face_masks.pt weights/face_masks.onnx
    python -m benchmarks.negatives_fp --splits val --all-sources --haar none
    python -m benchmarks.negatives_fp --save-train negatives_train/ && \\
        python prepare_data.py --sources DIR --negatives negatives_train/ --negatives-share 0.1
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import supervision as sv

from benchmarks import UPRIGHT_DATA, defaults, negative_crops
from benchmarks.haar_cascade import HaarCascade, haar_path
from benchmarks.negative_crops import Crop, Crops, make_crops
from facemask.cli import int_range, run_or_fail
from facemask.data.dataset_files import known_sources, load_dataset, split_images
from facemask.errors import FacemaskError
from facemask.inference.annotate import Annotator, draw_tally
from facemask.inference.detector import Detector, DetectorSettings, PredictOptions
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline
from facemask.owned_dirs import check_output, mark
from facemask.paths import DEFAULT_WEIGHTS, RUNS_DIR

EXHAUSTIVE_SOURCES = ("andrewmvd", "aditya276")  # labels close to exhaustive: a crop off their boxes shows no face
CONFS = (PredictOptions.conf, 0.5)  # detect.py's confidence, and a stricter one
GRID = 12  # worst crops shown
TILE = 256  # px per crop in the grid


class Collect(BaseSink):
    """Each crop's detections, by crop name."""

    def __init__(self):
        self.found: dict[str, sv.Detections] = {}

    def write(self, result: FrameResult) -> None:
        self.found[result.frame.source] = result.detections


def measure(weights: Path, crops: list[Crop]) -> tuple[Detector, dict[str, sv.Detections]]:
    detector = Detector(weights, DetectorSettings(conf=min(CONFS)))
    sink = Collect()
    Pipeline(detector).run((Frame(c.name, c.name, c.image) for c in crops), [sink])
    return detector, sink.found


def table_rows(crops: list[Crop], found: dict[str, sv.Detections]) -> list[list[str]]:
    """Per source and for all: crops, then per confidence false detections per crop and the share with any."""
    rows = []
    for source in [*sorted({c.source for c in crops}), "all"]:
        mine = [c for c in crops if source in ("all", c.source)]
        cells = [source, str(len(mine))]
        for conf in CONFS:
            counts = np.array([int((found[c.name].confidence >= conf).sum()) for c in mine])
            cells += [f"{counts.mean():.3f}", f"{(counts > 0).mean():.1%}"]
        rows.append(cells)
    return rows


def worst(crops: list[Crop], found: dict[str, sv.Detections]) -> list[Crop]:
    """The crops with the most false detections, then the most confident one, first; none without any."""
    hit = [c for c in crops if len(found[c.name])]
    return sorted(hit, key=lambda c: (-len(found[c.name]), -float(found[c.name].confidence.max()), c.name))


def grid(crops: list[Crop], found: dict[str, sv.Detections], annotator: Annotator) -> np.ndarray:
    """The crops side by side, four a row, numbered, with their detections drawn."""
    tiles = []
    for k, c in enumerate(crops):
        tile = cv2.resize(annotator(c.image, found[c.name]), (TILE, TILE), interpolation=cv2.INTER_AREA)
        tiles.append(draw_tally(tile, f"{k + 1}"))
    columns = min(4, len(tiles))
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    return np.vstack([np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)])


def describe(d: sv.Detections, names: dict[int, str]) -> str:
    return ", ".join(f"{names[int(i)]} {p:.2f}" for i, p in zip(d.class_id, d.confidence, strict=True)) or "-"


def run(
    weights: Sequence[Path] = (DEFAULT_WEIGHTS,),
    data: Path = UPRIGHT_DATA,
    splits: Sequence[str] = ("val", "test"),
    sources: Sequence[str] = EXHAUSTIVE_SOURCES,
    all_sources: bool = False,
    min_side: int = 128,
    per_photo: int = 2,
    haar: str | None = None,
    haar_neighbors: int = 2,
    out: Path = RUNS_DIR / "negatives_fp",
    save_train: Path | None = None,
    exist_ok: bool = False,
) -> dict[str, Any]:
    """Cut faceless crops of the `splits` of `data` and run each of `weights` over them (see above).

    sources: sources whose photos are cut (all_sources: add the others); min_side, per_photo: crop size, px,
    and at most this many per photo; haar: the face finder's cascade XML, 'none', or None (OpenCV's);
    haar_neighbors: windows a face needs beyond the first; out: where the grids go
    save_train: write the faceless crops of the train split here instead (exist_ok: replace a folder of ours)
    Returns crops (Crops) and, unless save_train, the table's rows and the worst crops of each weights."""
    root, content = load_dataset(data)
    known = known_sources(root)
    if all_sources:
        sources = sorted(set(sources) | {s for s in known if s not in EXHAUSTIVE_SOURCES})
    wanted = set(sources)
    path = haar_path(haar)
    finder = HaarCascade(path, min_neighbors=haar_neighbors) if path else None
    if save_train:
        check_output(Path(save_train), exist_ok, protected=[root], flag="--save-train")
        made = make_crops(split_images(root, content, "train"), known, wanted, min_side, per_photo, finder)
        negative_crops.save_train(made, Path(save_train))
        return {"crops": made}
    images = [i for s in splits for i in split_images(root, content, s)]
    made = make_crops(images, known, wanted, min_side, per_photo, finder)
    note = f"face finder: {path.name}, scale 1.05, {haar_neighbors} neighbours" if path else "no face finder"
    print(
        f"{made.photos} {'+'.join(splits)} photos of {', '.join(sources)}: "
        f"{len(made.crops) + len(made.found_face)} faceless crops ({made.no_room} photos without room for one, "
        f"{made.unlabelled} without labels skipped); {note}: dropped {len(made.found_face)}, "
        f"{len(made.crops)} left"
    )
    if not made.crops:
        raise FacemaskError("no faceless crops: try --min-side or --all-sources")
    check_output(out, exist_ok=True, protected=[root], flag="--out")
    if not out.exists():
        mark(out, "benchmark")
    rows, bad = [], {}
    for n, w in enumerate(weights):
        mine, bad[w.name] = evaluate(w, made, out, first=n == 0)
        rows += mine
    print_table(rows)
    return {"crops": made, "rows": rows, "worst": bad}


def print_table(rows: list[list[str]]) -> None:
    header = "| weights | source | crops | " + " | ".join(
        f"false detections / photo @{c:g} | crops with any @{c:g}" for c in CONFS
    )
    print(f"\n{header} |\n" + "| --- " * (3 + 2 * len(CONFS)) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def evaluate(weights: Path, made: Crops, out: Path, first: bool) -> tuple[list[list[str]], list[Crop]]:
    """One model over the crops: its table rows, and its worst crops, drawn in out/worst_<weights>.png. The
    crops the face finder dropped run too: how the model does on them tells whether dropping them removed
    faces or merely the busiest backgrounds (which would flatter the figures); the `first` model draws them."""
    detector, found = measure(weights, made.crops + made.found_face)
    rows = [[weights.name, *row] for row in table_rows(made.crops, found)]
    if made.found_face:
        rows.append([weights.name, "dropped by the face finder", *table_rows(made.found_face, found)[-1][1:]])
    annotator = Annotator(detector.names)
    if first and made.found_face:
        target = out / "face_finder_dropped.png"
        cv2.imwrite(str(target), grid(made.found_face[:GRID], found, annotator))
        print(
            f"the first {min(GRID, len(made.found_face))} crops the face finder dropped, with {weights.name}'s "
            f"detections, are in {target}: look whether they show faces"
        )
    bad = worst(made.crops, found)[:GRID]
    if not bad:
        print(f"{weights}: no detection on any crop")
        return rows, bad
    target = out / f"worst_{re.sub(r'[^A-Za-z0-9_-]+', '_', weights.name)}.png"
    cv2.imwrite(str(target), grid(bad, found, annotator))
    print(f"{weights}: the {len(bad)} worst crops are in {target}:")
    for k, c in enumerate(bad):
        print(f"  {k + 1}. {c.photo.name} at {c.box}: {describe(found[c.name], detector.names)}")
    return rows, bad


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, nargs="+")
    p.add_argument("--data", type=Path, help="dataset yaml")
    p.add_argument("--splits", nargs="+", choices=["val", "test"])
    p.add_argument("--sources", nargs="+", help="sources whose photos are cut")
    p.add_argument("--all-sources", action="store_true", help="add sergiovirahonda (its crowd faces are unboxed)")
    p.add_argument("--min-side", type=int_range(24), help="smallest crop side, px")
    p.add_argument("--per-photo", type=int_range(1), help="at most this many crops per photo")
    p.add_argument("--haar", help="Haar cascade XML for the face finder, or 'none' (default: OpenCV's frontal face)")
    p.add_argument("--haar-neighbors", type=int_range(0), help="windows a face needs beyond the first")
    p.add_argument("--out", type=Path, help="where the grids go")
    p.add_argument("--save-train", type=Path, help="write faceless crops of the train split here, and stop")
    p.add_argument("--exist-ok", action="store_true", help="replace a --save-train folder this project wrote")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.negatives_fp", run, opt)


if __name__ == "__main__":
    main(parse_opt())
