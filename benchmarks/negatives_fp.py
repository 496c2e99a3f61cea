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
CascadeClassifier, so the cascade runs here in numpy (face or not, it agreed with OpenCV 4.12's
detectMultiScale on all 80 crops and photos tried). Its XML comes from OpenCV 4's
cv2.data.haarcascades, Debian's opencv-data (apt-get install opencv-data) or --haar; without one the
crops are not filtered.

Each --weights (several allowed, e.g. an export beside the .pt) runs over the crops through the
Pipeline at confidence 0.25; the second column keeps the detections of 0.5 and above (the same as a
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
    python benchmarks/negatives_fp.py                                       # weights/face_masks.pt
    python benchmarks/negatives_fp.py --weights weights/face_masks.pt weights/face_masks.onnx
    python benchmarks/negatives_fp.py --splits val --all-sources --haar none
    python benchmarks/negatives_fp.py --save-train negatives_train/ && \\
        python prepare_data.py --sources DIR --negatives negatives_train/ --negatives-share 0.1
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import cv2
import numpy as np
import supervision as sv

from facemask.cli import fail, int_range
from facemask.data.dataset_files import known_sources, load_dataset, load_labels, source_of, split_images
from facemask.errors import FacemaskError
from facemask.inference.annotate import Annotator, draw_tally
from facemask.inference.detector import Detector, DetectorSettings
from facemask.inference.media import Frame, read_image
from facemask.inference.pipeline import BaseSink, FrameResult, Pipeline
from facemask.owned_dirs import check_output, mark, publish
from facemask.paths import DEFAULT_WEIGHTS, RUNS_DIR

EXHAUSTIVE_SOURCES = ("andrewmvd", "aditya276")  # labels close to exhaustive: a crop off their boxes shows no face
SHARES = (1 / 2, 1 / 3)  # crop side, as a share of the photo's short side
MARGIN = 0.3  # label boxes grown by this share of their size on each side
CONFS = (0.25, 0.5)
GRID = 12  # worst crops shown
TILE = 256  # px per crop in the grid
ROTATED = re.compile(r"_rot(90|180|270)$")  # the merge's turned copies: their original is in the split too
HAAR_DIRS = ("/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades")
HAAR_FILE = "haarcascade_frontalface_default.xml"
HAAR_SIDE = 640  # the face finder sees a crop reduced to this long side (faces from 24 px, 4% of it)


@dataclass
class Crop:
    name: str  # '<photo stem>_neg<k>'
    source: str
    photo: Path
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in the photo's pixels
    image: np.ndarray  # BGR


@dataclass
class Crops:
    crops: list[Crop] = field(default_factory=list)
    photos: int = 0
    unlabelled: int = 0  # photos with no label box: skipped, as their faces may all be unlabelled
    no_room: int = 0  # photos where no candidate misses every grown box
    found_face: list[Crop] = field(default_factory=list)  # dropped: the face finder saw a face


def candidate_boxes(width: int, height: int, min_side: int) -> list[tuple[int, int, int, int]]:
    """Squares at the corners, then the edge midpoints, larger first."""
    out = []
    for share in SHARES:
        side = int(min(width, height) * share)
        if side < min_side:
            continue
        right, bottom, mid_x, mid_y = width - side, height - side, (width - side) // 2, (height - side) // 2
        for x, y in ((0, 0), (right, 0), (0, bottom), (right, bottom),
                     (mid_x, 0), (mid_x, bottom), (0, mid_y), (right, mid_y)):  # fmt: skip
            box = (x, y, x + side, y + side)
            if box not in out:
                out.append(box)
    return out


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For box a, whether it overlaps (with positive area) each of boxes b (n, 4)."""
    return (a[0] < b[:, 2]) & (b[:, 0] < a[2]) & (a[1] < b[:, 3]) & (b[:, 1] < a[3])


def faceless_boxes(width: int, height: int, labels: np.ndarray, min_side: int, per_photo: int) -> list[tuple]:
    """At most `per_photo` candidates that touch no label box grown by MARGIN, nor each other."""
    size = np.concatenate([labels[:, 2:] - labels[:, :2]] * 2, axis=1)
    grown = labels + size * MARGIN * np.array([-1, -1, 1, 1])
    kept: list[tuple] = []
    for box in candidate_boxes(width, height, min_side):
        a = np.array(box, dtype=float)
        if _overlaps(a, grown).any() or (kept and _overlaps(a, np.array(kept, dtype=float)).any()):
            continue
        kept.append(box)
        if len(kept) == per_photo:
            break
    return kept


def make_crops(images: list[Path], sources: list[str], wanted: set[str], min_side: int, per_photo: int,
               finder: HaarCascade | None) -> Crops:  # fmt: skip
    out = Crops()
    for path in images:
        source = source_of(path.name, sources)
        if source not in wanted or ROTATED.search(path.stem):
            continue
        frame = read_image(str(path))
        if frame.image is None:
            continue
        out.photos += 1
        height, width = frame.image.shape[:2]
        labels = load_labels(path, width, height)
        if not len(labels):
            out.unlabelled += 1
            continue
        boxes = faceless_boxes(width, height, labels.xyxy, min_side, per_photo)
        out.no_room += not boxes
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            crop = Crop(f"{path.stem}_neg{k}", source, path, (x1, y1, x2, y2), frame.image[y1:y2, x1:x2].copy())
            finds = finder is not None and finder.finds_face(cv2.cvtColor(crop.image, cv2.COLOR_BGR2GRAY))
            (out.found_face if finds else out.crops).append(crop)
    return out


class HaarCascade:
    """OpenCV's Haar cascade detector (boosted stumps on upright Haar features, as in the frontal-face
    cascades) in numpy: OpenCV 5 dropped CascadeClassifier. Windows of the cascade's size slide over an
    image pyramid (every 2nd pixel below twice the size, then every pixel), each normalised by its
    contrast; a window passes a stage when its stumps' votes reach the stage's threshold, and a face is
    a group of at least `min_neighbors` + 1 similar windows that passed every stage (groupRectangles)."""

    def __init__(self, path: str | Path, scale_factor: float = 1.05, min_neighbors: int = 2):
        cascade = ET.parse(path).getroot().find("cascade")
        if cascade is None or cascade.findtext("featureType", "").strip() != "HAAR":
            raise FacemaskError(f"{path}: not an OpenCV Haar cascade")
        self.width, self.height = int(cascade.findtext("width")), int(cascade.findtext("height"))
        features = []
        for f in cascade.find("features"):
            if int(f.findtext("tilted", "0")):
                raise FacemaskError(f"{path}: tilted Haar features are not supported")
            rects = [[float(v) for v in r.text.split()] for r in f.find("rects")]
            features.append((rects + [[0, 0, 0, 0, 0]] * 3)[:3])  # padded to 3 rects (weight 0 adds nothing)
        features = np.array(features)  # (features, 3, 5): x, y, w, h, weight
        self.stages = []
        for stage in cascade.find("stages"):
            nodes, leaves = [], []
            for weak in stage.find("weakClassifiers"):
                node = weak.findtext("internalNodes").split()
                if len(node) != 4:
                    raise FacemaskError(f"{path}: only stump cascades are supported")
                nodes.append((int(node[2]), float(node[3])))
                leaves.append([float(v) for v in weak.findtext("leafValues").split()])
            index = np.array([n[0] for n in nodes])
            rects = features[index]
            self.stages.append((float(stage.findtext("stageThreshold")), rects[..., :4].astype(np.int64),
                                rects[..., 4], np.array([n[1] for n in nodes]), np.array(leaves)))  # fmt: skip
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors

    def windows(self, grey: np.ndarray) -> np.ndarray:
        """(n, 4) x, y, w, h of the windows (in `grey`'s pixels) that pass every stage."""
        found = []
        height, width = grey.shape
        scale = 1.0
        while round(self.width * scale) <= width and round(self.height * scale) <= height:
            size = (round(width / scale), round(height / scale))
            image = cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR_EXACT).astype(np.int64)
            step = 1 if scale >= 2 else 2
            x, y = self._scan(image, step)
            found.append(np.stack([x * scale, y * scale, np.full(len(x), self.width * scale),
                                   np.full(len(x), self.height * scale)], axis=1))  # fmt: skip
            scale *= self.scale_factor
        return np.concatenate(found) if found else np.empty((0, 4))

    def _scan(self, image: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-left corners of the windows of one pyramid level that pass every stage."""
        rows, cols = image.shape
        if rows < self.height or cols < self.width:
            return np.empty(0, int), np.empty(0, int)
        total = np.zeros((rows + 1, cols + 1), np.int64)
        total[1:, 1:] = image.cumsum(0).cumsum(1)
        square = np.zeros_like(total)
        square[1:, 1:] = (image * image).cumsum(0).cumsum(1)
        total, square, stride = total.ravel(), square.ravel(), cols + 1
        ys, xs = np.mgrid[0 : rows - self.height + 1 : step, 0 : cols - self.width + 1 : step]
        at = (ys * stride + xs).ravel()

        def area(table: np.ndarray, at: np.ndarray, x, y, w, h) -> np.ndarray:  # rect sums, in windows at `at`
            corners = [y * stride + x, y * stride + x + w, (y + h) * stride + x, (y + h) * stride + x + w]
            a, b, c, d = (table[at[..., None, None] + np.asarray(k)[None]] if np.ndim(k) else table[at + k]
                          for k in corners)  # fmt: skip
            return a - b - c + d

        # OpenCV normalises by the contrast of the window less its border, and skips windows of little contrast
        n = (self.width - 2) * (self.height - 2)
        inner = (1, 1, self.width - 2, self.height - 2)
        norm = n * area(square, at, *inner).astype(np.float64) - area(total, at, *inner).astype(np.float64) ** 2
        norm = np.sqrt(np.maximum(norm, 0))
        keep = (norm > 0) & (n < 0.1 * norm)
        at, norm = at[keep], norm[keep]
        for threshold, rects, weights, cuts, leaves in self.stages:
            value = (area(total, at, *(rects[..., i] for i in range(4))) * weights).sum(-1) / norm[:, None]
            votes = np.where(value < cuts, leaves[:, 0], leaves[:, 1]).sum(1)
            keep = votes >= threshold
            at, norm = at[keep], norm[keep]
            if not len(at):
                break
        return at % stride, at // stride

    def faces(self, grey: np.ndarray) -> int:
        """Groups of similar windows (OpenCV's groupRectangles, eps 0.2) with more than min_neighbors."""
        rects = self.windows(grey)
        if len(rects) <= self.min_neighbors:
            return 0
        if len(rects) > 3000:  # no need to group them to know that something face-like is all over it
            return 1
        x, y, w, h = rects.T
        delta = 0.2 * (np.minimum(w[:, None], w) + np.minimum(h[:, None], h)) * 0.5
        similar = np.ones((len(rects), len(rects)), bool)
        for v in (x, y, x + w, y + h):  # every side within delta of the other's
            similar &= np.abs(v[:, None] - v) <= delta
        label = np.arange(len(rects))  # connected components of the similarity graph
        while True:
            merged = np.where(similar, label[None, :], len(rects)).min(1)
            if np.array_equal(merged, label):
                break
            label = merged[merged]
        return int((np.bincount(label) > self.min_neighbors).sum())

    def finds_face(self, grey: np.ndarray) -> bool:
        scale = HAAR_SIDE / max(grey.shape)
        if scale < 1:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return self.faces(grey) > 0


def haar_path(choice: str | None) -> Path | None:
    """--haar: a file, 'none', or (not given) the frontal-face cascade of OpenCV 4 or Debian's opencv-data."""
    if choice is not None:
        if choice.lower() == "none":
            return None
        if not Path(choice).is_file():
            raise FacemaskError(f"--haar {choice}: no such file")
        return Path(choice)
    folders = [getattr(getattr(cv2, "data", None), "haarcascades", ""), *HAAR_DIRS]
    return next((Path(d) / HAAR_FILE for d in folders if d and (Path(d) / HAAR_FILE).is_file()), None)


class Collect(BaseSink):
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


def save_train(opt: argparse.Namespace, root: Path, content: dict, sources: list[str], finder) -> None:
    out = Path(opt.save_train)
    check_output(out, opt.exist_ok, protected=[root], flag="--save-train")
    made = make_crops(split_images(root, content, "train"), sources, set(opt.sources), opt.min_side, opt.per_photo,
                      finder)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    for c in made.crops:
        cv2.imwrite(str(tmp / f"{c.name}.jpg"), c.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    publish(tmp, out, "negatives")
    print(f"{len(made.crops)} faceless crops of {made.photos} train photos written to {out} "
          f"({len(made.found_face)} dropped by the face finder, {made.no_room} photos without room for one); "
          f"use: python prepare_data.py --sources DIR --negatives {out}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, nargs="+", default=[DEFAULT_WEIGHTS])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "face_masks_upright.yaml")
    p.add_argument("--splits", nargs="+", default=["val", "test"], choices=["val", "test"])
    p.add_argument("--sources", nargs="+", default=list(EXHAUSTIVE_SOURCES), help="sources whose photos are cut")
    p.add_argument("--all-sources", action="store_true", help="add sergiovirahonda (its crowd faces are unboxed)")
    p.add_argument("--min-side", type=int_range(24), default=128, help="smallest crop side, px")
    p.add_argument("--per-photo", type=int_range(1), default=2, help="at most this many crops per photo")
    p.add_argument("--haar", help="Haar cascade XML for the face finder, or 'none' (default: OpenCV's frontal face)")
    p.add_argument("--haar-neighbors", type=int_range(0), default=2, help="windows a face needs beyond the first")
    p.add_argument("--out", type=Path, default=RUNS_DIR / "negatives_fp", help="where the grids go")
    p.add_argument("--save-train", type=Path, help="write faceless crops of the train split here, and stop")
    p.add_argument("--exist-ok", action="store_true", help="replace a --save-train folder this project wrote")
    opt = p.parse_args()
    try:
        run(opt)
    except FacemaskError as e:
        fail(p.prog, e)


def run(opt: argparse.Namespace) -> None:
    root, content = load_dataset(opt.data)
    sources = known_sources(root)
    if opt.all_sources:
        opt.sources = sorted(set(opt.sources) | {s for s in sources if s not in EXHAUSTIVE_SOURCES})
    path = haar_path(opt.haar)
    finder = HaarCascade(path, min_neighbors=opt.haar_neighbors) if path else None
    note = f"face finder: {path.name}, scale 1.05, {opt.haar_neighbors} neighbours" if path else "no face finder"
    if opt.save_train:
        return save_train(opt, root, content, sources, finder)

    images = [i for s in opt.splits for i in split_images(root, content, s)]
    made = make_crops(images, sources, set(opt.sources), opt.min_side, opt.per_photo, finder)
    cut = len(made.crops) + len(made.found_face)
    print(f"{made.photos} {'+'.join(opt.splits)} photos of {', '.join(opt.sources)}: {cut} faceless crops "
          f"({made.no_room} photos without room for one, {made.unlabelled} without labels skipped); "
          f"{note}: dropped {len(made.found_face)}, {len(made.crops)} left")  # fmt: skip
    if not made.crops:
        raise FacemaskError("no faceless crops: try --min-side or --all-sources")
    check_output(opt.out, exist_ok=True, protected=[root], flag="--out")
    if not opt.out.exists():
        mark(opt.out, "benchmark")
    header = "| weights | source | crops | " + " | ".join(
        f"false detections / photo @{c:g} | crops with any @{c:g}" for c in CONFS
    ) + " |"  # fmt: skip
    lines = [header, "| --- " * (3 + 2 * len(CONFS)) + "|"]
    for n, weights in enumerate(opt.weights):
        # the crops the face finder dropped run too: how the model does on them tells whether dropping them
        # removed faces or merely the busiest backgrounds (which would flatter the figures)
        detector, found = measure(weights, made.crops + made.found_face)
        lines += ["| " + " | ".join([weights.name, *row]) + " |" for row in table_rows(made.crops, found)]
        if made.found_face:
            row = table_rows(made.found_face, found)[-1]
            lines.append("| " + " | ".join([weights.name, "dropped by the face finder", *row[1:]]) + " |")
        tag = re.sub(r"[^A-Za-z0-9_-]+", "_", weights.name)
        annotator = Annotator(detector.names)
        if n == 0 and made.found_face:
            target = opt.out / "face_finder_dropped.png"
            cv2.imwrite(str(target), grid(made.found_face[:GRID], found, annotator))
            print(f"the first {min(GRID, len(made.found_face))} crops the face finder dropped, with {weights.name}'s "
                  f"detections, are in {target}: look whether they show faces")  # fmt: skip
        bad = worst(made.crops, found)[:GRID]
        if not bad:
            print(f"{weights}: no detection on any crop")
            continue
        target = opt.out / f"worst_{tag}.png"
        cv2.imwrite(str(target), grid(bad, found, annotator))
        print(f"{weights}: the {len(bad)} worst crops are in {target}:")
        for k, c in enumerate(bad):
            print(f"  {k + 1}. {c.photo.name} at {c.box}: {describe(found[c.name], detector.names)}")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
