"""Independent check that no val/test photo of a merged dataset has a near-copy in its train split.

A near-copy is an augmented copy (rotated a few degrees, skewed, stretched, cropped, mirrored,
darkened) or a near-identical frame of the same scene. The merge (facemask/near_copies.py) finds
them with 16 px thumbnail neighbours and ORB keypoints under an affine RANSAC model; this check
shares neither stage, so a blind spot of one is unlikely to be a blind spot of the other:

1. candidates, --k per val/test photo, taken in turn from two rankings of all train photos:
   a. SIFT descriptor votes: every descriptor of the photo (and of its mirror image) looks up its
      10 nearest train descriptors in one FLANN k-d tree; each train photo among them that is
      clearly nearer than the 10th gets a vote (near-copies share hundreds of local features);
   b. a global CNN embedding: the COCO-pretrained YOLOv5n backbone (layers 0-9), GeM-pooled at four
      depths, of the photo squashed to a square and brightness-normalised (and of its mirror);
2. verification: SIFT keypoints (on CLAHE-equalised greyscale) of the photo and of its mirror image
   matched to the candidate's with Lowe's ratio test; a copy when one plausible homography (RANSAC)
   explains at least --min-inliers of them and those inliers reach across the photo (--min-spread):
   different photos that share a watermark, a stock-photo banner or a logo match in one strip.

Rotated copies of train photos (*_rot90, *_rot180, *_rot270, made by the merge) are skipped, as
queries and as targets: their original is in train anyway.

Every run calibrates itself and prints the figures: inliers of --random-pairs random pairs of
different photos (val/test x train: where false alarms live), the inlier histogram of all
candidate pairs (look-alikes among them), and, for --synthetic val/test photos, an augmented copy
made on the fly (turned, skewed, cropped, stretched, perhaps mirrored, darkened, re-encoded): its
rank in each candidate list among the whole train split and its inliers, i.e. the check's recall
end to end. --save writes contact sheets of the matches (the query beside its train match, inliers
drawn; the strongest and the weakest), of the pairs rejected for their spread, of the best candidates
that are not copies, and of synthetic copies, and matches.csv (every verified pair).

Exit status 1 when a split's share of photos with a near-copy in train is above --max-share.
On 2,512 train and 442 val/test photos it takes about 8 minutes on two (busy) CPU cores and 2.3 GB
of memory; most of it is SIFT on every photo and the 10,000 pairs verified.

Usage:
    python benchmarks/split_leak_check.py                                   # datasets/face_masks_upright
    python benchmarks/split_leak_check.py --data datasets/face_masks --splits val,test --k 20 \\
        --min-inliers 20 --workers 2 --save /tmp/split_leak_check
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import csv
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np
from tqdm import tqdm

from facemask.data.sources import IMAGE_SUFFIXES
from facemask.paths import PROJECT_ROOT

T = TypeVar("T")
R = TypeVar("R")

ROTATED = re.compile(r"_rot(90|180|270)$")  # the merge's right-angle copies of train photos
DEFAULT_WEIGHTS = PROJECT_ROOT.parent / "shared" / "weights" / "yolov5nu_coco_backbone.pt"

EMBED_SIDE = 256  # the CNN sees the photo squashed to this square (which also undoes a stretch)
EMBED_LAYERS = (4, 6, 8, 9)  # backbone outputs pooled into the embedding (strides 8, 16, 32 and SPPF)
GEM_POWER = 3.0  # generalised-mean pooling: between average (1) and max
MEAN_LUMA = 115.0  # brightness the CNN input is scaled to, so darkened copies embed alike
SIFT_SIDE = 640  # keypoints are found on the photo scaled down to this longest side
SIFT_FEATURES = 600
VOTE_NEIGHBOURS = 10  # train descriptors looked up per query descriptor
VOTE_RATIO = 0.9  # a neighbour votes when nearer than this share of the last neighbour's distance
RATIO = 0.75  # Lowe's ratio test in verification
RANSAC_PX = 0.01  # reprojection threshold, as a share of the photo's longest side
#: Homography inliers that make two photos copies. On face_masks_upright, 2,000 random val/test x train
#: pairs of different photos reach at most 4 (p99 4); synthetic copies score a median of 153; among the
#: nearest neighbours, photos of one person in one session (andrewmvd) reach 15-24, and the copies that
#: sergiovirahonda augments hardest 15-20.
MIN_INLIERS = 20
#: How far those inliers must reach across the photo (see spread()). Pairs of different photos that share
#: a watermark, a stock-photo banner (alamy) or a broadcaster's logo reach 25-69 inliers at a spread of
#: 0.02-0.10, and a face matched alone 0.15-0.18; copies (real and synthetic) 0.25 and more.
MIN_SPREAD = 0.2


# --------------------------------------------------------------------------- reading


def list_photos(folder: Path) -> list[Path]:
    """Photos of one split, without the merge's rotated copies."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    return sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and not ROTATED.search(f.stem))


def read_bgr(path: Path) -> np.ndarray:
    image = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)  # by content, any file name
    if image is None:
        raise ValueError(f"cannot read {path}")
    return image


def mirrored(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(bgr[:, ::-1])


# --------------------------------------------------------------------------- CNN embedding


_BACKBONE: Any = None  # each worker's copy of the backbone


def init_backbone(weights: str) -> None:
    """Load the backbone (layers 0-9 of the detector) once per process, on one thread."""
    global _BACKBONE
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    _BACKBONE = YOLO(weights).model.model[: max(EMBED_LAYERS) + 1].eval()


def embed(images: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-norm embeddings (len(images), D) of BGR images."""
    import torch

    batch = []
    for bgr in images:
        square = cv2.resize(bgr, (EMBED_SIDE, EMBED_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        luma = float(cv2.cvtColor(square, cv2.COLOR_BGR2GRAY).mean())
        square *= min(4.0, MEAN_LUMA / max(luma, 1.0))  # brightness
        batch.append(np.clip(square[:, :, ::-1], 0, 255).transpose(2, 0, 1) / 255.0)  # RGB, CHW
    x = torch.from_numpy(np.stack(batch).astype(np.float32))
    pooled = []
    with torch.inference_mode():
        for i, layer in enumerate(_BACKBONE):
            x = layer(x)  # layers 0-9 of YOLOv5 each take the previous layer's output
            if i in EMBED_LAYERS:
                gem = x.clamp(min=1e-6).pow(GEM_POWER).mean(dim=(2, 3)).pow(1 / GEM_POWER)
                pooled.append(torch.nn.functional.normalize(gem, dim=1))
    e = torch.cat(pooled, dim=1).numpy()
    return e / np.linalg.norm(e, axis=1, keepdims=True)


# --------------------------------------------------------------------------- SIFT keypoints


@dataclass
class Keys:
    """SIFT keypoints of one photo (and of its mirror image, for a query), small enough to send around."""

    size: tuple[float, float]  # (width, height) / longest side
    points: np.ndarray  # float32 (n, 2), in units of the longest side
    descriptors: np.ndarray  # uint8 (n, 128) (OpenCV's SIFT values are whole numbers 0-255)
    mirror_points: np.ndarray | None = None
    mirror_descriptors: np.ndarray | None = None


_SIFT: Any = None
_CLAHE: Any = None


def sift(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    global _SIFT, _CLAHE
    if _SIFT is None:
        _SIFT = cv2.SIFT_create(nfeatures=SIFT_FEATURES)
        _CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    keypoints, descriptors = _SIFT.detectAndCompute(_CLAHE.apply(grey), None)  # equalised: darkened copies too
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8)
    points = np.array([k.pt for k in keypoints], np.float32) / max(grey.shape)
    return points, np.clip(descriptors, 0, 255).astype(np.uint8)


def keys_of(bgr: np.ndarray, mirror: bool) -> Keys:
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    scale = SIFT_SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = grey.shape
    keys = Keys((w / max(h, w), h / max(h, w)), *sift(grey))
    if mirror:
        keys.mirror_points, keys.mirror_descriptors = sift(mirrored(grey))
    return keys


@dataclass
class Photo:
    """What the check needs of one photo."""

    embedding: np.ndarray  # (1, D) for a train photo, (2, D) for a query: as it is and mirrored
    keys: Keys


def describe(task: tuple[Path, str, int]) -> tuple[Photo, str]:
    """Embedding and keypoints of a train photo, of a query (as it is and mirrored) or of a synthetic
    augmented copy of a query made with the seed (described as a train photo), and what was done to it."""
    path, role, seed = task
    bgr = read_bgr(path)
    if role == "synthetic":
        copy, notes = augment(bgr, np.random.default_rng(seed))
        return Photo(embed([copy]), keys_of(copy, mirror=False)), notes
    query = role == "query"
    return Photo(embed([bgr, mirrored(bgr)] if query else [bgr]), keys_of(bgr, mirror=query)), ""


# --------------------------------------------------------------------------- candidates: descriptor votes


class VoteIndex:
    """All descriptors of a set of photos in one FLANN k-d tree, for descriptor voting."""

    def __init__(self, keys: Sequence[Keys]) -> None:
        self.n = len(keys)
        self.descriptors = np.concatenate([k.descriptors for k in keys]).astype(np.float32)  # kept alive for FLANN
        self.owner = np.concatenate([np.full(len(k.descriptors), i, np.int64) for i, k in enumerate(keys)])
        self.neighbours = min(VOTE_NEIGHBOURS, len(self.descriptors))
        self.index = cv2.flann_Index(self.descriptors, {"algorithm": 1, "trees": 4})  # 1: FLANN_INDEX_KDTREE

    def votes(self, descriptors: np.ndarray | None) -> np.ndarray:
        """(n,) descriptors of `descriptors` that have a photo among their nearest neighbours, per photo."""
        if descriptors is None or not len(descriptors) or self.neighbours < 2:
            return np.zeros(self.n, np.int64)
        idx, dist = self.index.knnSearch(descriptors.astype(np.float32), self.neighbours, params={"checks": 64})
        close = dist < VOTE_RATIO**2 * dist[:, -1:]  # FLANN's L2 distances are squared
        rows = np.broadcast_to(np.arange(len(idx))[:, None], idx.shape)
        codes = np.unique(rows[close] * self.n + self.owner[idx[close]])  # one vote per descriptor and photo
        return np.bincount(codes % self.n, minlength=self.n)

    def query(self, keys: Keys) -> np.ndarray:
        """Votes for the photo as it is or mirrored, whichever is higher, per photo."""
        return np.maximum(self.votes(keys.descriptors), self.votes(keys.mirror_descriptors))


def interleave(rankings: Sequence[np.ndarray], k: int) -> list[int]:
    """The first k distinct items of the rankings taken in turn."""
    out: list[int] = []
    seen: set[int] = set()
    for position in range(max(len(r) for r in rankings)):
        for r in rankings:
            if position < len(r) and int(r[position]) not in seen:
                seen.add(int(r[position]))
                out.append(int(r[position]))
                if len(out) == k:
                    return out
    return out


# --------------------------------------------------------------------------- verification: SIFT + homography


@dataclass
class Match:
    inliers: int
    mirrored: bool
    src: np.ndarray  # (inliers, 2) query points (in the mirror image's frame when mirrored)
    dst: np.ndarray  # (inliers, 2) train points
    spread: float = 0.0  # of the inliers over the photo that they cover best (see spread())


_MATCHER: Any = None


def homography_inliers(points: np.ndarray, descriptors: np.ndarray, b: Keys) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test matches that one plausible homography explains: (query points, train points)."""
    global _MATCHER
    empty = np.zeros((0, 2), np.float32)
    if len(descriptors) < 4 or len(b.descriptors) < 4:
        return empty, empty
    if _MATCHER is None:
        _MATCHER = cv2.BFMatcher(cv2.NORM_L2)
    knn = _MATCHER.knnMatch(descriptors.astype(np.float32), b.descriptors.astype(np.float32), k=2)
    best: dict[int, Any] = {}  # one match per train keypoint: SIFT repeats a point at several orientations
    for pair in knn:
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            m = pair[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
                best[m.trainIdx] = m
    if len(best) < 4:
        return empty, empty
    src = points[[m.queryIdx for m in best.values()]]
    dst = b.points[[m.trainIdx for m in best.values()]]
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX, maxIters=2000, confidence=0.995)
    if H is None or mask is None or not plausible(H):
        return empty, empty
    keep = mask.ravel().astype(bool)
    src, dst = src[keep], dst[keep]
    _, unique = np.unique(np.round(src * 200), axis=0, return_index=True)  # repeated positions count once
    return src[unique], dst[unique]


def plausible(H: np.ndarray) -> bool:
    """A copy is turned, skewed, stretched or cropped; not flipped (the mirror image is tried on its own),
    squashed to a line or seen in steep perspective."""
    H = H / H[2, 2] if abs(H[2, 2]) > 1e-9 else H
    det = float(np.linalg.det(H[:2, :2]))
    return 1 / 16 < det < 16 and float(np.abs(H[2, :2]).max()) < 1.0


def spread(points: np.ndarray, size: tuple[float, float]) -> float:
    """How far the points reach across the photo: the smaller of their widths in x and in y (10th to 90th
    percentile) as a share of the photo's width and height. Copies and frames of one scene match all
    over; a watermark, a stock-photo banner or a logo that two different photos share matches in one
    strip or corner."""
    if len(points) < 5:
        return 0.0
    lo, hi = np.percentile(points, [10, 90], axis=0)
    return float(min((hi - lo) / np.asarray(size)))


def match(a: Keys, b: Keys) -> Match:
    """The better of a as it is and a mirrored against b (by inliers)."""
    src, dst = homography_inliers(a.points, a.descriptors, b)
    result = Match(len(src), False, src, dst)
    if a.mirror_points is not None and a.mirror_descriptors is not None:
        src, dst = homography_inliers(a.mirror_points, a.mirror_descriptors, b)
        if len(src) > result.inliers:
            result = Match(len(src), True, src, dst)
    result.spread = max(spread(result.src, a.size), spread(result.dst, b.size))  # the mirror has a's size
    return result


_KEYS: dict[str, Keys] = {}  # each verifying worker's copy of the keypoints, sent once at its start


def init_keys(keys: dict[str, Keys]) -> None:
    global _KEYS
    _KEYS = keys
    cv2.setNumThreads(1)


def verify(task: tuple[str, list[str]]) -> list[tuple[int, bool, float]]:
    """(inliers, mirrored, spread) of one query against each of its targets."""
    query, targets = task
    out = []
    for target in targets:
        m = match(_KEYS[query], _KEYS[target])
        out.append((m.inliers, m.mirrored, m.spread))
    return out


# --------------------------------------------------------------------------- synthetic copies


def augment(bgr: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """An augmented copy as public sets make them: perhaps mirrored, turned a few degrees, skewed, cropped
    (zoomed in), stretched, darkened (gain or gamma) or brightened, colours shifted a little, re-encoded."""
    h, w = bgr.shape[:2]
    notes = []
    if rng.random() < 0.5:
        bgr = mirrored(bgr)
        notes.append("mirror")
    angle = float(rng.uniform(2, 12) * rng.choice([-1, 1]))
    shear = float(rng.uniform(-0.15, 0.15))
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    skew = np.array([[1, shear, -shear * h / 2], [0, 1, 0], [0, 0, 1]], np.float64)
    border = cv2.BORDER_REFLECT if rng.random() < 0.3 else cv2.BORDER_CONSTANT  # black corners, mostly
    bgr = cv2.warpAffine(bgr, rot @ skew, (w, h), flags=cv2.INTER_LINEAR, borderMode=border)
    left, top, right, bottom = rng.uniform(0, 0.2, 4)
    bgr = bgr[int(top * h) : h - int(bottom * h), int(left * w) : w - int(right * w)]
    sx, sy = rng.uniform(0.75, 1.25, 2)
    bgr = cv2.resize(bgr, (max(32, int(bgr.shape[1] * sx)), max(32, int(bgr.shape[0] * sy))))
    notes += [f"{angle:+.0f}deg", f"shear {shear:+.2f}", f"crop {max(left, top, right, bottom):.2f}"]
    notes.append(f"stretch {sx:.2f}x{sy:.2f}")
    x = bgr.astype(np.float32) / 255
    if rng.random() < 0.4:
        gamma = float(rng.uniform(1.3, 2.2))
        x, light = x**gamma, f"gamma {gamma:.1f}"
    else:
        gain = float(rng.uniform(0.3, 0.8) if rng.random() < 0.8 else rng.uniform(1.1, 1.4))
        x, light = x * gain, f"gain {gain:.2f}"
    if rng.random() < 0.5:  # saturation and a colour cast
        grey = x.mean(axis=2, keepdims=True)
        x = (grey + (x - grey) * rng.uniform(0.7, 1.3)) * rng.uniform(0.9, 1.1, 3)
        light += ", colour"
    bgr = np.clip(x * 255, 0, 255).astype(np.uint8)
    quality = int(rng.integers(60, 92))
    bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    return bgr, ", ".join([*notes, light])


# --------------------------------------------------------------------------- running on both cores


def parallel(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    desc: str,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> list[R]:
    """map() with a progress bar, on `workers` processes (in this one for one worker)."""
    bar = tqdm(total=len(items), desc=desc, unit="task", leave=False)
    results: list[R] = []
    try:
        if workers <= 1 or len(items) < 2:
            if initializer is not None:
                initializer(*initargs)
            for item in items:
                results.append(fn(item))
                bar.update()
            return results
        with ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs) as pool:
            for r in pool.map(fn, items, chunksize=max(1, min(16, len(items) // (workers * 8)))):
                results.append(r)
                bar.update()
        return results
    finally:
        bar.close()


# --------------------------------------------------------------------------- contact sheets


def fit(bgr: np.ndarray, height: int) -> np.ndarray:
    width = max(1, round(bgr.shape[1] * height / bgr.shape[0]))
    return cv2.resize(bgr, (min(width, 2 * height), height), interpolation=cv2.INTER_AREA)


def sheet_row(
    query: np.ndarray, target: np.ndarray, m: Match, keys: tuple[Keys, Keys], lines: Sequence[str]
) -> np.ndarray:
    """The query (mirrored when it matched mirrored) beside the train photo, all inliers dotted and some
    joined by lines, under the lines of text."""
    height, gap, top = 240, 16, 6 + 16 * len(lines)
    left = fit(mirrored(query) if m.mirrored else query, height)
    right = fit(target, height)
    row = np.full((height + top, max(left.shape[1] + gap + right.shape[1], 760), 3), 255, np.uint8)
    row[top:, : left.shape[1]] = left
    x0 = left.shape[1] + gap
    row[top:, x0 : x0 + right.shape[1]] = right
    (wa, ha), (wb, hb) = keys[0].size, keys[1].size
    for n, ((xa, ya), (xb, yb)) in enumerate(zip(m.src, m.dst, strict=True)):
        pa = (int(xa / wa * left.shape[1]), top + int(ya / ha * height))
        pb = (x0 + int(xb / wb * right.shape[1]), top + int(yb / hb * height))
        if n % max(1, m.inliers // 25) == 0:  # about 25 lines: enough to see the map, few enough to see the photos
            cv2.line(row, pa, pb, (0, 200, 0), 1, cv2.LINE_AA)
        cv2.circle(row, pa, 2, (0, 255, 255), -1)
        cv2.circle(row, pb, 2, (0, 255, 255), -1)
    chars = row.shape[1] // 7  # what fits of a line at this font size
    for n, text in enumerate(lines):
        text = text if len(text) <= chars else text[: chars - 3] + "..."
        cv2.putText(row, text, (4, 14 + 16 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return row


def write_sheets(rows: list[np.ndarray], out: Path, stem: str, per_page: int = 6) -> list[Path]:
    written = []
    for page, start in enumerate(range(0, len(rows), per_page), 1):
        chunk = rows[start : start + per_page]
        width = max(r.shape[1] for r in chunk)
        padded = [np.pad(r, ((0, 8), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in chunk]
        path = out / f"{stem}_{page:02d}.png"
        cv2.imwrite(str(path), np.vstack(padded))
        written.append(path)
    return written


# --------------------------------------------------------------------------- main


def percentiles(values: Iterable[int]) -> str:
    v = np.asarray(list(values))
    if not len(v):
        return "none"
    q = np.percentile(v, [50, 90, 99, 99.9])
    return f"median {q[0]:.0f}, p90 {q[1]:.0f}, p99 {q[2]:.0f}, p99.9 {q[3]:.0f}, max {v.max()} (n={len(v)})"


INLIER_BINS = (0, 5, 10, 15, 20, 25, 30, 50, 100, 200)
SPREAD_BINS = (0, 10, 20, 30, 40, 60)  # per cent


def histogram(values: Iterable[int], edges: Sequence[int] = INLIER_BINS, scale: int = 1) -> str:
    """Counts per bin of whole-number values; bins are shown divided by `scale`."""
    v = np.asarray(list(values))
    parts = []
    for lo, hi in zip(edges, [*edges[1:], None], strict=True):
        if hi is None:
            parts.append(f"{lo / scale:g}+: {int((v >= lo).sum())}")
        else:
            label = f"{lo}-{hi - 1}" if scale == 1 else f"{lo / scale:g}-{hi / scale:g}"
            parts.append(f"{label}: {int(((v >= lo) & (v < hi)).sum())}")
    return ", ".join(parts)


def rank_of(scores: np.ndarray) -> np.ndarray:
    """Positions 0.. of the items by score, best first (ties by index, for repeatable runs)."""
    return np.argsort(-scores, kind="stable")


@dataclass
class Found:
    query: int
    train: int
    inliers: int
    mirrored: bool
    spread: float
    vote_rank: int  # the train photo's place in each candidate ranking
    cnn_rank: int


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=PROJECT_ROOT / "datasets" / "face_masks_upright", help="dataset root")
    p.add_argument("--splits", default="val,test", help="comma-separated splits checked against train")
    p.add_argument("--k", type=int, default=20, help="train candidates verified per query (both rankings in turn)")
    p.add_argument("--min-inliers", type=int, default=MIN_INLIERS, help="homography inliers that make a copy")
    p.add_argument("--min-spread", type=float, default=MIN_SPREAD, help="how far a copy's inliers reach (spread())")
    p.add_argument("--max-share", type=float, default=0.02, help="exit 1 when a split's share of leaks is above")
    p.add_argument("--random-pairs", type=int, default=2000, help="random query x train pairs for calibration")
    p.add_argument("--synthetic", type=int, default=100, help="synthetic augmented copies for calibration")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="ultralytics YOLOv5 for the embedding")
    p.add_argument("--save", type=Path, help="folder for contact sheets and matches.csv")
    p.add_argument("--sheet-rows", type=int, default=36, help="matches shown on the contact sheets")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    opt = p.parse_args()
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    cv2.setNumThreads(1)

    images = opt.data / "images"
    splits = [s.strip() for s in opt.splits.split(",") if s.strip()]
    train = list_photos(images / "train")
    queries = {s: list_photos(images / s) for s in splits}
    qpaths = [q for s in splits for q in queries[s]]
    qsplit = [s for s in splits for _ in queries[s]]
    if len(train) < 2 or not qpaths:
        raise SystemExit(f"nothing to compare under {images}: {len(train)} train, {len(qpaths)} query photos")
    train_id = [f"train/{f.name}" for f in train]
    query_id = [f"{s}/{f.name}" for s, f in zip(qsplit, qpaths, strict=True)]
    nt, nq = len(train), len(qpaths)
    print(f"{opt.data}: {nt} train photos; " + ", ".join(f"{len(queries[s])} {s}" for s in splits))

    rng = np.random.default_rng(opt.seed)
    syn_of = sorted(rng.choice(nq, min(opt.synthetic, nq), replace=False).tolist()) if opt.synthetic > 0 else []
    syn_seed = [opt.seed * 100_003 + i for i in syn_of]

    # 1. embeddings and keypoints of every photo (queries also mirrored) and of the synthetic copies
    t = time.perf_counter()
    tasks = [(f, "train", 0) for f in train] + [(f, "query", 0) for f in qpaths]
    tasks += [(qpaths[i], "synthetic", seed) for i, seed in zip(syn_of, syn_seed, strict=True)]
    described = parallel(describe, tasks, opt.workers, "Reading", init_backbone, (str(opt.weights),))
    photos = [ph for ph, _ in described[: nt + nq]]
    copies = described[nt + nq :]
    train_keys = [ph.keys for ph in photos[:nt]]
    keys: dict[str, Keys] = {i: ph.keys for i, ph in zip(train_id + query_id, photos, strict=True)}
    syn_id = [f"synthetic/{n}" for n in range(len(syn_of))]
    keys.update({sid: c.keys for sid, (c, _) in zip(syn_id, copies, strict=True)})
    times["embeddings + keypoints"] = time.perf_counter() - t

    # 2. candidates: descriptor votes and CNN similarity, in turn
    t = time.perf_counter()
    train_emb = np.concatenate([ph.embedding for ph in photos[:nt]])  # (nt, D)
    query_emb = np.stack([ph.embedding for ph in photos[nt:]])  # (nq, 2, D)
    sim = np.einsum("mvd,nd->mvn", query_emb, train_emb).max(axis=1)  # (nq, nt) cosine, as is or mirrored
    index = VoteIndex(train_keys)
    votes = np.stack([index.query(keys[q]) for q in tqdm(query_id, desc="Voting", leave=False)])  # (nq, nt)
    del index
    k = min(opt.k, nt)
    vote_rank = [rank_of(v) for v in votes]
    cnn_rank = [rank_of(s) for s in sim]
    cands = [interleave((vote_rank[i][:k], cnn_rank[i][:k]), k) for i in range(nq)]
    syn_ranks: list[tuple[int, int, bool]] = []  # the copy's place among all train photos: votes, CNN, fused
    if copies:
        index = VoteIndex(train_keys + [c.keys for c, _ in copies])
        for n, i in enumerate(syn_of):
            v = index.query(keys[query_id[i]])
            v = np.append(v[:nt], v[nt + n])  # the train photos and this copy (as number nt)
            s = np.append(sim[i], float((query_emb[i] @ copies[n][0].embedding[0]).max()))
            rv, rc = rank_of(v), rank_of(s)
            fused = interleave((rv[:k], rc[:k]), k)
            syn_ranks.append((int(np.flatnonzero(rv == nt)[0]), int(np.flatnonzero(rc == nt)[0]), nt in fused))
        del index
    times["candidates"] = time.perf_counter() - t

    # 3. verification: candidates, random pairs, synthetic copies
    t = time.perf_counter()
    pairs_random = [(int(rng.integers(nq)), int(rng.integers(nt))) for _ in range(opt.random_pairs)]
    pairs_random = [(i, j) for i, j in pairs_random if qpaths[i].name != train[j].name]
    by_query: dict[int, list[int]] = {}
    for i, j in pairs_random:
        by_query.setdefault(i, []).append(j)
    jobs = [(query_id[i], [train_id[j] for j in cands[i]]) for i in range(nq)]
    random_jobs = [(query_id[i], [train_id[j] for j in js]) for i, js in by_query.items()]
    syn_jobs = [(query_id[i], [sid]) for i, sid in zip(syn_of, syn_id, strict=True)]
    scores = parallel(verify, jobs + random_jobs + syn_jobs, opt.workers, "Verifying", init_keys, (keys,))
    times["verification"] = time.perf_counter() - t
    cand_scores = scores[: len(jobs)]
    random_scores = [
        (i, j, inl, spr)
        for (i, js), r in zip(by_query.items(), scores[len(jobs) : len(jobs) + len(random_jobs)], strict=True)
        for j, (inl, _, spr) in zip(js, r, strict=True)
    ]
    syn_scores = [r[0] for r in scores[len(jobs) + len(random_jobs) :]]

    def copy(inliers: int, spread: float) -> bool:
        return inliers >= opt.min_inliers and spread >= opt.min_spread

    # 4. report
    position = [(np.argsort(vote_rank[i]), np.argsort(cnn_rank[i])) for i in range(nq)]  # photo -> its place
    pairs: list[Found] = [
        Found(i, j, inl, mir, spr, int(position[i][0][j]), int(position[i][1][j]))
        for i, row in enumerate(cand_scores)
        for j, (inl, mir, spr) in zip(cands[i], row, strict=True)
    ]
    verified = [f for f in pairs if copy(f.inliers, f.spread)]
    low_spread = sorted((f for f in pairs if f.inliers >= opt.min_inliers and f.spread < opt.min_spread),
                        key=lambda f: -f.inliers)  # fmt: skip
    best: dict[int, Found] = {}  # each query's best verified match, or else its best candidate
    for f in sorted(pairs, key=lambda f: (copy(f.inliers, f.spread), f.inliers)):
        best[f.query] = f
    leaks = sorted((f for f in best.values() if copy(f.inliers, f.spread)), key=lambda f: -f.inliers)
    below = sorted((f for f in best.values() if not copy(f.inliers, f.spread)), key=lambda f: -f.inliers)
    n_copies = {i: sum(f.query == i for f in verified) for i in range(nq)}
    verified_pairs = {(f.query, f.train) for f in verified}

    print(f"\nCalibration (--min-inliers {opt.min_inliers}, --min-spread {opt.min_spread}, --k {k}):")
    known = [r for r in random_scores if (r[0], r[1]) in verified_pairs]
    rand = [r for r in random_scores if (r[0], r[1]) not in verified_pairs]
    print(f"  random pairs of different photos, inliers: {percentiles(r[2] for r in rand)}")
    if known:
        print(f"    ({len(known)} more random pairs are near-copies the check found among the candidates; left out)")
    over = [r for r in rand if copy(r[2], r[3])]
    print(f"    random pairs that pass as copies although not among the verified candidates: {len(over)}")
    for i, j, inl, spr in over:
        print(f"      {query_id[i]} ~ {train_id[j]}: {inl} inliers, spread {spr:.2f}")
    print(f"  all {len(pairs)} candidate pairs, by inliers: {histogram(f.inliers for f in pairs)}")
    print(
        f"    with {opt.min_inliers}+ inliers, by spread: "
        f"{histogram((round(f.spread * 100) for f in pairs if f.inliers >= opt.min_inliers), SPREAD_BINS, 100)}"
    )
    print(f"    {len(low_spread)} of them fail on spread (a shared watermark, banner or logo, or one part of a scene)")
    for f in low_spread[:5]:
        print(f"      {query_id[f.query]} ~ {train_id[f.train]}: {f.inliers} inliers, spread {f.spread:.2f}")
    if copies:
        rv, rc, fused = (np.array([r[n] for r in syn_ranks]) for n in range(3))
        ok = np.array([copy(inl, spr) for inl, _, spr in syn_scores])
        print(f"  {len(copies)} synthetic augmented copies of query photos, ranked among all {nt} train photos:")
        print(f"    by descriptor votes: {percentiles(rv)}")
        print(f"    by CNN embedding:    {percentiles(rc)}")
        print(f"    among the {k} candidates: {int(fused.sum())}")
        print(
            f"    inliers: {percentiles(r[0] for r in syn_scores)}; spread: "
            f"{histogram((round(r[2] * 100) for r in syn_scores), SPREAD_BINS, 100)}"
        )
        print(
            f"    verified: {int(ok.sum())}; found end to end (a candidate and verified): {int((ok & fused).sum())} "
            f"of {len(copies)}"
        )
        for n in np.flatnonzero(~(ok & fused)):
            print(
                f"      missed: copy of {query_id[syn_of[n]]} ({copies[n][1]}): ranks {rv[n]}/{rc[n]}, "
                f"{syn_scores[n][0]} inliers, spread {syn_scores[n][2]:.2f}"
            )

    print("\n| split | photos checked | with a near-copy in train | share |")
    print("| --- | --- | --- | --- |")
    failed = False
    for s in splits:
        n = len(queries[s])
        count = sum(qsplit[f.query] == s for f in leaks)
        share = count / n if n else 0.0
        failed |= share > opt.max_share
        print(f"| {s} | {n} | {count} | {share:.1%} |")
    by_vote = sum(f.vote_rank < k for f in verified)
    by_cnn = sum(f.cnn_rank < k for f in verified)
    print(
        f"\n{len(verified)} verified pairs; the train photo was in the top {k} of descriptor votes in {by_vote}, "
        f"of the CNN in {by_cnn}"
    )
    print(f"Matches ({len(leaks)} queries): query ~ best train match, inliers, spread (+ other train copies verified)")
    for f in leaks:
        more = f" (+{n_copies[f.query] - 1})" if n_copies[f.query] > 1 else ""
        mirror = " mirrored" if f.mirrored else ""
        print(f"  {query_id[f.query]}  ~  {train_id[f.train]}  {f.inliers}{mirror}, {f.spread:.2f}{more}")
    if below:
        print("Best candidates of the other queries:")
        for f in below[:12]:
            mirror = " mirrored" if f.mirrored else ""
            print(f"  {query_id[f.query]}  ~  {train_id[f.train]}  {f.inliers}{mirror}, {f.spread:.2f}")

    if opt.save:
        opt.save.mkdir(parents=True, exist_ok=True)
        with (opt.save / "matches.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["query", "train", "inliers", "mirrored", "spread", "vote_rank", "cnn_rank", "verified"])
            for f in sorted(verified, key=lambda f: (f.query, -f.inliers)) + low_spread + below:
                w.writerow(
                    [
                        query_id[f.query],
                        train_id[f.train],
                        f.inliers,
                        f.mirrored,
                        f"{f.spread:.3f}",
                        f.vote_rank,
                        f.cnn_rank,
                        copy(f.inliers, f.spread),
                    ]
                )

        def rows(found: list[Found], tag: str) -> list[np.ndarray]:
            out = []
            for f in found:
                a, b = keys[query_id[f.query]], keys[train_id[f.train]]
                m = match(a, b)
                lines = [
                    f"{tag}{m.inliers} inliers{' (query mirrored)' if m.mirrored else ''}, spread {m.spread:.2f}; "
                    f"ranks {f.vote_rank} (votes), {f.cnn_rank} (CNN)",
                    f"left: {query_id[f.query]}",
                    f"right: {train_id[f.train]}",
                ]
                out.append(sheet_row(read_bgr(qpaths[f.query]), read_bgr(train[f.train]), m, (a, b), lines))
            return out

        half = opt.sheet_rows // 2
        shown = leaks if len(leaks) <= opt.sheet_rows else leaks[:half] + leaks[-half:]  # strongest and weakest
        sheets = write_sheets(rows(shown, ""), opt.save, "matches")
        sheets += write_sheets(rows(low_spread[:12], "LOW SPREAD: "), opt.save, "low_spread")
        sheets += write_sheets(rows(below[:12], "NOT VERIFIED: "), opt.save, "below_threshold")
        syn_rows = []
        for n, i in enumerate(syn_of[:12]):
            image, notes = augment(read_bgr(qpaths[i]), np.random.default_rng(syn_seed[n]))
            a, b = keys[query_id[i]], keys[syn_id[n]]
            m = match(a, b)
            lines = [
                f"SYNTHETIC: {m.inliers} inliers{' (query mirrored)' if m.mirrored else ''}, spread {m.spread:.2f}; "
                f"ranks {syn_ranks[n][0]} (votes), {syn_ranks[n][1]} (CNN)",
                f"left: {query_id[i]}",
                f"right: its copy: {notes}",
            ]
            syn_rows.append(sheet_row(read_bgr(qpaths[i]), image, m, (a, b), lines))
        sheets += write_sheets(syn_rows, opt.save, "synthetic")
        print(f"\nContact sheets: {', '.join(str(s) for s in sheets)}\nAll pairs: {opt.save / 'matches.csv'}")

    times["total"] = time.perf_counter() - t0
    print("Time: " + ", ".join(f"{name} {sec:.0f} s" for name, sec in times.items()) + f"; {opt.workers} workers")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
