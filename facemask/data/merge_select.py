"""Which judged photos the merged dataset keeps, and the groups they are split in: one photo of each set
of near-duplicates, a photo and its augmented copies in one group, negatives that are no copy of a face
photo and at most --negatives-share of them. A photo dropped here has its staged file removed."""

from __future__ import annotations

import hashlib

import numpy as np

from facemask.classes import INCORRECT
from facemask.data.dedup import near_duplicate_groups
from facemask.data.merge_judge import Judged
from facemask.data.merge_options import NEGATIVES, MergeOptions
from facemask.data.near_copies import copy_pairs
from facemask.data.report import DUPLICATE, INCORRECT_MASK, OVER_NEGATIVES_CAP


def _hashes(judged: list[Judged]) -> np.ndarray:
    return np.stack([j.hashes for j in judged]) if judged else np.zeros((0, 4), np.uint64)


def drop_duplicates(judged: list[Judged], max_distance: int) -> None:
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
        best = max(
            members, key=lambda j: (bool(j.classes), INCORRECT in j.classes, j.size[0] * j.size[1], len(j.classes))
        )
        for j in members:
            if j.reason is not None or (incorrect is None and j is best):
                continue
            if incorrect is not None:
                j.unstage(INCORRECT_MASK, f"near-duplicate of {incorrect.source}/{incorrect.rel}, which shows one")
            else:
                j.unstage(DUPLICATE, f"near-duplicate of {best.source}/{best.rel}")


def group_copies(judged: list[Judged], opts: MergeOptions, progress: bool) -> tuple[list[Judged], np.ndarray]:
    """The kept photos and a group id for each: a photo, its augmented copies and similar photos share one.
    A kept photo that is a copy of one dropped for an incorrectly worn mask is dropped too."""
    pool = [j for j in judged if j.reason is None or (j.reason == INCORRECT_MASK and j.fingerprint is not None)]
    names = [(j.source, j.rel) for j in pool]
    pairs = copy_pairs([j.fingerprint for j in pool], names, workers=opts.workers, progress=progress)
    for a, b in pairs:
        for j, other in ((pool[a], pool[b]), (pool[b], pool[a])):
            if j.reason is None and j.source == NEGATIVES and other.classes:
                j.unstage(DUPLICATE, f"copy of {other.source}/{other.rel}, which shows faces")
            # other.detail is empty for a photo that shows the mask itself, not for one dropped as its copy
            if j.reason is None and other.reason == INCORRECT_MASK and not other.detail:
                j.unstage(INCORRECT_MASK, f"augmented copy of {other.source}/{other.rel}, which shows one")
    index = {id(j): i for i, j in enumerate(pool)}
    kept = [j for j in judged if j.reason is None]
    at = {index[id(j)]: k for k, j in enumerate(kept)}
    kept_pairs = [(at[a], at[b]) for a, b in pairs if a in at and b in at]
    return kept, near_duplicate_groups(_hashes(kept), opts.group_distance, kept_pairs)


def cap_negatives(kept: list[Judged], groups: np.ndarray, opts: MergeOptions) -> tuple[list[Judged], np.ndarray]:
    """Keep at most `negatives_share` of the merged photos as negatives, chosen by the seed."""
    negatives = [j for j in kept if j.source == NEGATIVES]
    faces = len(kept) - len(negatives)
    cap = int(opts.negatives_share / (1 - opts.negatives_share) * faces) if opts.negatives_share < 1 else len(kept)
    if len(negatives) <= cap:
        return kept, groups
    order = sorted(negatives, key=lambda j: hashlib.sha1(f"{opts.seed}:{j.name}".encode()).hexdigest())
    for j in order[cap:]:
        j.unstage(OVER_NEGATIVES_CAP, f"--negatives-share {opts.negatives_share:g} allows {cap}")
    keep = np.array([j.reason is None for j in kept])
    return [j for j in kept if j.reason is None], groups[keep]
