"""Merge face-mask datasets into one clean, leak-free YOLO dataset (the engine of prepare_data.py).

Steps: read every source image and its label (in parallel), judge it (label problems, incorrect
masks, bad boxes, blur), hash and fingerprint it; drop near-duplicates across all sources; find
augmented copies (near_copies); split whole groups of copies and similar photos 85/10/5 per source;
write images and YOLO labels, with 90/180/270 degree copies of training images only. The dataset is
built in a hidden folder beside the output and moved into place only when complete.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from facemask.classes import INCORRECT, NO_MASK, output_names
from facemask.data.data_yaml import write_data_yaml
from facemask.data.dedup import near_duplicate_groups, rotation_hashes
from facemask.data.formats.yolo import write_label
from facemask.data.labels import LabelError
from facemask.data.layout import discover
from facemask.data.near_copies import Fingerprint, copy_pairs, fingerprint
from facemask.data.quality import sharpness
from facemask.data.report import (
    BLURRY,
    DUPLICATE,
    EMPTY_LABEL,
    INCORRECT_MASK,
    INVALID_BOX,
    MALFORMED_LABEL,
    MISSING_LABEL,
    OVER_NEGATIVES_CAP,
    UNKNOWN_CLASS,
    UNREADABLE,
    MergeReport,
    group_stats,
)
from facemask.data.sources import MissingLabel, Sample, SourceSpec, image_files, load_sources
from facemask.data.split import SPLITS, assign_splits, moved_by_keep, read_split_list, write_split_list
from facemask.errors import FacemaskError
from facemask.geometry import ROTATIONS, as_boxes, big_enough, clamp_boxes, transpose_boxes, transposed_size
from facemask.images import LoadedImage, UnreadableImage, load_image, output_suffix, safe_name, save_rgb, write_image
from facemask.owned_dirs import check_output, is_ours, mark, publish

NEGATIVES = "negatives"  # the source name of --negatives photos in the report and file names
DATASET = "dataset"  # the kind of output folder the merge makes (owned_dirs)
ULTRALYTICS_CACHES = ["labels/*.cache"]  # written by ultralytics' loader beside our label folders


class MergeError(FacemaskError, FileNotFoundError):
    """Nothing to merge: no source found where the config says."""


@dataclass
class MergeOptions:
    """Everything that decides the merged dataset's content; recorded in its report."""

    incorrect: str = "drop"
    min_box: float = 2.0
    blur_threshold: float | None = None
    blur_scope: str = "image"
    dup_distance: int = 4  # pHash bits: at most this far apart = the same photo, kept once
    # At most this far apart = similar photos, kept in one split. Augmented copies are found by keypoints
    # (near_copies); looser pHash links chain unrelated photos (at 12 bits, 732 of 2,954 in one group).
    group_distance: int = 8
    split: tuple[float, float, float] = (0.85, 0.10, 0.05)
    seed: int = 0
    rotate: bool = True
    negatives: str | None = None  # a folder of photos without faces, kept as background images
    negatives_share: float = 0.1  # at most this share of the merged photos are negatives
    keep_split: str | None = None  # a splits.csv whose photos keep their split (split.assign_splits)
    class_map: dict[str, str] = field(default_factory=dict)  # --class-map: a set's own class name -> meaning
    added: list[str] = field(default_factory=list)  # --add: folders merged beside the configured sources
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass
class Judged:
    """One source image after reading: kept (reason None) or dropped with a reason."""

    source: str
    rel: str
    name: str
    box_classes: list[str] = field(default_factory=list)  # meaning of every box read
    box_reasons: list[str | None] = field(default_factory=list)  # drop reason per box, None = kept
    reason: str | None = None
    detail: str = ""
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    classes: list[str] = field(default_factory=list)  # classes of the kept boxes, after --incorrect
    size: tuple[int, int] = (0, 0)
    hashes: np.ndarray | None = None
    fingerprint: Fingerprint | None = None
    staged: str | None = None

    def drop(self, reason: str, detail: str = "") -> Judged:
        self.reason, self.detail = reason, detail
        return self


def judge_sample(sample: Sample, specs: dict[str, SourceSpec], opts: MergeOptions, stage_dir: Path) -> Judged:
    """Read, check and normalise one image and its label; a kept image is staged as a plain file."""
    out = Judged(sample.source, sample.rel, safe_name(sample.source, sample.rel))
    if sample.label is None:  # a negative: a photo known to show no face
        return _judge_negative(out, sample, opts, stage_dir)
    spec = specs[sample.source]
    try:
        label = sample.read_label(spec.format)
    except MissingLabel as e:
        return out.drop(MISSING_LABEL, str(e))
    except (LabelError, OSError) as e:
        return out.drop(MALFORMED_LABEL, str(e))
    meanings = [spec.classes.get(k) for k in label.keys]
    out.box_classes = [m or f"unknown ({k})" for m, k in zip(meanings, label.keys, strict=True)]
    out.box_reasons = [None] * len(meanings)
    if not meanings:
        return out.drop(EMPTY_LABEL, f"{sample.label.name} has no boxes")
    unknown = sorted({k for m, k in zip(meanings, label.keys, strict=True) if m is None})
    if unknown:
        return out.drop(
            UNKNOWN_CLASS, f"class {unknown[0]!r} in {sample.label.name} is not in the {spec.name!r} class map"
        )
    shows_incorrect = INCORRECT in meanings
    if shows_incorrect and opts.incorrect == "no-mask":
        meanings = [NO_MASK if m == INCORRECT else m for m in meanings]

    try:
        loaded = load_image(sample.image)
    except UnreadableImage as e:
        return out.drop(UNREADABLE, str(e))
    # Hashed even when dropped for an incorrect mask, so its copies in other sources go too.
    out.hashes = rotation_hashes(loaded.image)
    out.fingerprint = fingerprint(loaded.image)
    if shows_incorrect and opts.incorrect == "drop":
        return out.drop(INCORRECT_MASK)
    width, height = loaded.image.size
    boxes = as_boxes(label.boxes)
    if label.normalized:
        boxes = boxes * [width, height, width, height]
    elif loaded.orientation is not None and label.size == loaded.stored_size != (width, height):
        # Labels are taken in the upright (EXIF-applied) frame, as ultralytics reads images; a VOC
        # file whose declared size is the stored, un-rotated one was drawn on the raw pixels.
        boxes = transpose_boxes(boxes, *loaded.stored_size, loaded.orientation)
    boxes = clamp_boxes(boxes, width, height)
    ok = big_enough(boxes, opts.min_box)
    out.box_reasons = [None if k else INVALID_BOX for k in ok]
    if not ok.any():
        return out.drop(INVALID_BOX, f"no box of at least {opts.min_box:g} px inside the image")
    out.boxes = boxes[ok]
    out.classes = [m for m, k in zip(meanings, ok, strict=True) if k]
    out.size = (width, height)

    if opts.blur_threshold is not None:
        score = sharpness(loaded.image, out.boxes if opts.blur_scope == "faces" else None)
        if score < opts.blur_threshold:
            return out.drop(BLURRY, f"{opts.blur_scope} sharpness {score:.0f} < {opts.blur_threshold:g}")
    return _stage(out, loaded, sample, stage_dir)


def _judge_negative(out: Judged, sample: Sample, opts: MergeOptions, stage_dir: Path) -> Judged:
    try:
        loaded = load_image(sample.image)
    except UnreadableImage as e:
        return out.drop(UNREADABLE, str(e))
    out.hashes = rotation_hashes(loaded.image)  # a negative that is a copy of a face photo must not stay one
    out.fingerprint = fingerprint(loaded.image)
    out.size = loaded.image.size
    return _stage(out, loaded, sample, stage_dir)


def _stage(out: Judged, loaded: LoadedImage, sample: Sample, stage_dir: Path) -> Judged:
    staged = stage_dir / f"{out.name}{output_suffix(loaded)}"
    write_image(loaded, sample.image, staged)
    out.staged = str(staged)
    return out


@dataclass
class WriteJob:
    staged: str
    split: str
    name: str
    boxes: np.ndarray
    class_ids: list[int]
    size: tuple[int, int]
    rotate: bool


def write_sample(job: WriteJob, root: Path) -> int:
    """Move a staged image into its split with its YOLO label; add rotated copies if asked.
    Returns the number of images written."""
    staged = Path(job.staged)
    image_path = root / "images" / job.split / f"{job.name}{staged.suffix}"
    os.replace(staged, image_path)
    write_label(root / "labels" / job.split / f"{job.name}.txt", job.class_ids, job.boxes, job.size)
    if not job.rotate:
        return 1
    with Image.open(image_path) as im:
        im.load()
        for angle, method in ROTATIONS.items():
            name = f"{job.name}_rot{angle}"
            save_rgb(im.transpose(method), image_path.with_name(f"{name}{staged.suffix}"))
            boxes = transpose_boxes(job.boxes, *job.size, method)
            size = transposed_size(*job.size, method)
            write_label(root / "labels" / job.split / f"{name}.txt", job.class_ids, boxes, size)
    return 1 + len(ROTATIONS)


def _parallel(fn: Callable, items: list, workers: int, desc: str, progress: bool) -> Iterator:
    """map() over both cores with a progress bar; in-process for one worker (tests, debugging)."""
    bar = functools.partial(tqdm, total=len(items), desc=desc, unit="img", disable=not progress, leave=True)
    if workers <= 1 or len(items) < 2:
        yield from bar(map(fn, items))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from bar(pool.map(fn, items, chunksize=max(1, min(32, len(items) // (workers * 8)))))


def _hashes(judged: list[Judged]) -> np.ndarray:
    return np.stack([j.hashes for j in judged]) if judged else np.zeros((0, 4), np.uint64)


def _drop_duplicates(judged: list[Judged], max_distance: int) -> None:
    """Keep one photo of each set of near-duplicates: one whose labels name an incorrectly worn mask (with
    --incorrect class: andrewmvd's photos reappear in other sources with only two classes), then the
    largest, then the one with most faces. A set in which any copy shows an incorrectly worn mask (and was
    dropped for it) goes entirely."""
    pool = [j for j in judged if j.reason is None or (j.reason == INCORRECT_MASK and j.hashes is not None)]
    sets: dict[int, list[Judged]] = {}
    for j, g in zip(pool, near_duplicate_groups(_hashes(pool), max_distance), strict=True):
        sets.setdefault(int(g), []).append(j)
    for members in sets.values():
        incorrect = next((j for j in members if j.reason == INCORRECT_MASK), None)
        best = max(members, key=lambda j: (bool(j.classes), INCORRECT in j.classes, j.size[0] * j.size[1],
                                           len(j.classes)))  # fmt: skip
        for j in members:
            if j.reason is not None or (incorrect is None and j is best):
                continue
            if incorrect is not None:
                j.drop(INCORRECT_MASK, f"near-duplicate of {incorrect.source}/{incorrect.rel}, which shows one")
            else:
                j.drop(DUPLICATE, f"near-duplicate of {best.source}/{best.rel}")
            Path(j.staged).unlink()


def _group_copies(judged: list[Judged], opts: MergeOptions, progress: bool) -> tuple[list[Judged], np.ndarray]:
    """The kept photos and a group id for each: a photo, its augmented copies and similar photos share one.
    A kept photo that is a copy of one dropped for an incorrectly worn mask is dropped too."""
    pool = [j for j in judged if j.reason is None or (j.reason == INCORRECT_MASK and j.fingerprint is not None)]
    names = [(j.source, j.rel) for j in pool]
    pairs = copy_pairs([j.fingerprint for j in pool], names, workers=opts.workers, progress=progress)
    for a, b in pairs:
        for j, other in ((pool[a], pool[b]), (pool[b], pool[a])):
            if j.reason is None and j.source == NEGATIVES and other.classes:
                j.drop(DUPLICATE, f"copy of {other.source}/{other.rel}, which shows faces")
                Path(j.staged).unlink()
            # other.detail is empty for a photo that shows the mask itself, not for one dropped as its copy
            if j.reason is None and other.reason == INCORRECT_MASK and not other.detail:
                j.drop(INCORRECT_MASK, f"augmented copy of {other.source}/{other.rel}, which shows one")
                Path(j.staged).unlink()
    index = {id(j): i for i, j in enumerate(pool)}
    kept = [j for j in judged if j.reason is None]
    at = {index[id(j)]: k for k, j in enumerate(kept)}
    kept_pairs = [(at[a], at[b]) for a, b in pairs if a in at and b in at]
    return kept, near_duplicate_groups(_hashes(kept), opts.group_distance, kept_pairs)


def _cap_negatives(kept: list[Judged], groups: np.ndarray, opts: MergeOptions) -> tuple[list[Judged], np.ndarray]:
    """Keep at most `negatives_share` of the merged photos as negatives, chosen by the seed."""
    negatives = [j for j in kept if j.source == NEGATIVES]
    faces = len(kept) - len(negatives)
    cap = int(opts.negatives_share / (1 - opts.negatives_share) * faces) if opts.negatives_share < 1 else len(kept)
    if len(negatives) <= cap:
        return kept, groups
    order = sorted(negatives, key=lambda j: hashlib.sha1(f"{opts.seed}:{j.name}".encode()).hexdigest())
    for j in order[cap:]:
        j.drop(OVER_NEGATIVES_CAP, f"--negatives-share {opts.negatives_share:g} allows {cap}")
        Path(j.staged).unlink()
    keep = np.array([j.reason is None for j in kept])
    return [j for j in kept if j.reason is None], groups[keep]


def merge(
    sources_dir: Path | None,
    out: Path,
    config: Path = Path("configs/datasets.yaml"),
    opts: MergeOptions | None = None,
    exist_ok: bool = False,
    progress: bool = True,
    log: Callable[[str], Any] = print,
    protected: Iterable[Path] = (),
    added: Iterable[SourceSpec] = (),
) -> MergeReport:
    """Build the merged dataset at `out` from the sources of `config` under `sources_dir` (None: none of
    them) and the `added` ones (layout.resolve_added); returns its report (also saved as out/report.json).
    An existing `out` is replaced only with `exist_ok` and only when the project made it; `out` may not
    overlap the sources or `protected` folders (a download cache)."""
    t0 = time.perf_counter()
    opts, added = opts or MergeOptions(), list(added)
    names = output_names(opts.incorrect)
    out = Path(out)
    inputs = [Path(p) for p in [sources_dir, *protected, opts.negatives, *(s.folder for s in added)] if p]
    check_output(out, exist_ok, inputs, replace=True)
    configured = load_sources(config) if sources_dir is not None else []
    specs, samples = discover(sources_dir, configured + added, opts.class_map, log)
    if opts.negatives:
        samples += _negatives(Path(opts.negatives))
    if not samples:
        raise MergeError(f"no images found for any source of {config} under {sources_dir}, nor in --add")

    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    report = MergeReport(options={**asdict(opts), "sources_dir": str(sources_dir), "config": str(config)})
    try:
        mark(tmp, DATASET)  # no file list yet: a half-built dataset is never taken for a finished one
        stage = tmp / "staging"
        stage.mkdir(parents=True)
        judge = functools.partial(judge_sample, specs=specs, opts=opts, stage_dir=stage)
        judged = list(_parallel(judge, samples, opts.workers, "Reading", progress))

        _drop_duplicates(judged, opts.dup_distance)
        kept, groups = _group_copies(judged, opts, progress)
        kept, groups = _cap_negatives(kept, groups, opts)
        keys, sources = [j.name for j in kept], [j.source for j in kept]
        report.groups = group_stats(sources, groups)
        keep = read_split_list(Path(opts.keep_split)) if opts.keep_split else {}
        shares = {spec.name: spec.split or opts.split for spec in specs.values()}
        faces = [len(j.boxes) + 1 for j in kept]  # groups laid out by faces: a crowd photo weighs as its faces
        splits = assign_splits(keys, groups, sources, shares, opts.seed, keep, weights=faces)
        if opts.keep_split:
            report.kept_split = {"file": opts.keep_split, "listed": sum(k in keep for k in keys),
                                 "moved": moved_by_keep(keys, splits, keep)}  # fmt: skip

        for j in judged:
            report.add_image(j.source, j.rel, j.box_classes, j.box_reasons, j.reason, j.detail)
        for split in SPLITS:
            (tmp / "images" / split).mkdir(parents=True)
            (tmp / "labels" / split).mkdir(parents=True)
        jobs = [
            WriteJob(
                j.staged, s, j.name, j.boxes, [names.index(c) for c in j.classes], j.size, opts.rotate and s == "train"
            )
            for j, s in zip(kept, splits, strict=True)
        ]
        written = list(_parallel(functools.partial(write_sample, root=tmp), jobs, opts.workers, "Writing", progress))
        report.splits = _split_stats(jobs, written, names)
        shutil.rmtree(stage)
        write_data_yaml(tmp / "data.yaml", names, path=None)
        write_split_list(tmp / "splits.csv", keys, sources, groups, splits)
        report.wall_time_s = round(time.perf_counter() - t0, 1)
        report.save(tmp / "report.json")
        report.plot(tmp / "report.png")
        publish(tmp, out, DATASET, ULTRALYTICS_CACHES)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _negatives(folder: Path) -> list[Sample]:
    if not folder.is_dir():
        raise MergeError(f"--negatives {folder}: no such folder")
    return [Sample(NEGATIVES, p, None, p.relative_to(folder).as_posix()) for p in image_files(folder)]


def _split_stats(jobs: list[WriteJob], written: list[int], names: list[str]) -> dict[str, Any]:
    stats = {s: {"photos": 0, "rotated": 0, "images": 0, "boxes": dict.fromkeys(names, 0)} for s in SPLITS}
    for job, n in zip(jobs, written, strict=True):
        s = stats[job.split]
        s["photos"] += 1
        s["rotated"] += n - 1
        s["images"] += n
        for c in job.class_ids:
            s["boxes"][names[c]] += n
    return stats


def _remove_stale_partials(out: Path) -> None:
    """Remove half-built datasets left by runs that were killed outright (no cleanup ran)."""
    for p in out.parent.glob(f".{out.name}.partial-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)) and is_ours(p):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
