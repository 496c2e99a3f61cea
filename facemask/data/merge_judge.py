"""The merge's first step, one source image at a time (in worker processes): read it and its label, judge
it (label problems, incorrect masks, bad boxes, blur), hash and fingerprint it, and stage a kept image as
a plain file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facemask.classes import INCORRECT, NO_MASK
from facemask.data.dedup import rotation_hashes
from facemask.data.labels import LabelError, LabelFile
from facemask.data.merge_options import MergeOptions
from facemask.data.near_copies import Fingerprint, fingerprint
from facemask.data.quality import sharpness
from facemask.data.report import (
    BLURRY,
    EMPTY_LABEL,
    INCORRECT_MASK,
    INVALID_BOX,
    MALFORMED_LABEL,
    MISSING_LABEL,
    UNKNOWN_CLASS,
    UNREADABLE,
)
from facemask.data.sources import MissingLabel, Sample, SourceSpec
from facemask.geometry import as_boxes, big_enough, clamp_boxes, transpose_boxes
from facemask.images import LoadedImage, UnreadableImage, load_image, output_suffix, safe_name, write_image


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

    def unstage(self, reason: str, detail: str) -> None:
        """Drop a photo judged fit at first (a later step found it a copy, or one too many)."""
        self.drop(reason, detail)
        Path(self.staged).unlink()


def judge_sample(sample: Sample, specs: dict[str, SourceSpec], opts: MergeOptions, stage_dir: Path) -> Judged:
    """Read, check and normalise one image and its label; a kept image is staged as a plain file."""
    out = Judged(sample.source, sample.rel, safe_name(sample.source, sample.rel))
    if sample.label is None:  # a negative: a photo known to show no face
        return _judge_negative(out, sample, stage_dir)
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
    return _stage(out, loaded, sample, stage_dir) if _keep_boxes(out, loaded, label, meanings, opts) else out


def _keep_boxes(out: Judged, loaded: LoadedImage, label: LabelFile, meanings: list[str], opts: MergeOptions) -> bool:
    """Keep the boxes (in the upright image's pixels) big enough to train on; False, and the image
    dropped, if none is or the image is too blurry."""
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
        out.drop(INVALID_BOX, f"no box of at least {opts.min_box:g} px inside the image")
        return False
    out.boxes = boxes[ok]
    out.classes = [m for m, k in zip(meanings, ok, strict=True) if k]
    out.size = (width, height)
    if opts.blur_threshold is not None:
        score = sharpness(loaded.image, out.boxes if opts.blur_scope == "faces" else None)
        if score < opts.blur_threshold:
            out.drop(BLURRY, f"{opts.blur_scope} sharpness {score:.0f} < {opts.blur_threshold:g}")
            return False
    return True


def _judge_negative(out: Judged, sample: Sample, stage_dir: Path) -> Judged:
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
