"""Leak-free train/val/test splitting: whole groups of near-duplicates go to one split.

A split list (splits.csv, written beside every merged dataset) can be kept by a later merge, so that a
better copy search or a new source never moves a photo a model was trained on into its val or test split.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from facemask.errors import FacemaskError

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.85, 0.10, 0.05)


class SplitError(FacemaskError, ValueError):
    """A --split that is not three shares adding up to 1 (or 100), or a --keep-split list that is not one."""


SPLIT_LIST_COLUMNS = ("image", "source", "group", "split")


def parse_fractions(text: str | Sequence[float]) -> tuple[float, float, float]:
    """'85/10/5', '0.85,0.1,0.05' or a sequence -> fractions summing to 1. Shares that add up to
    neither 1 nor 100 are refused rather than rescaled: '0.5,0.6,0.1' is a typo, not a request."""
    try:
        parts = [p for p in text.replace(",", "/").split("/") if p.strip()] if isinstance(text, str) else text
        values = [float(v) for v in parts]
    except (TypeError, ValueError):
        values = []
    if len(values) != 3 or min(values) < 0 or not all(math.isfinite(v) for v in values):
        raise SplitError(f"--split needs three non-negative shares train/val/test such as 85/10/5, got {text!r}")
    total = sum(values)
    if not (math.isclose(total, 1, abs_tol=1e-3) or math.isclose(total, 100, abs_tol=0.1)):
        raise SplitError(f"--split shares must add up to 1 or 100, got {text!r} (sum {total:g})")
    return tuple(v / total for v in values)  # type: ignore[return-value]


def assign_splits(
    keys: Sequence[str],
    groups: Sequence[int],
    strata: Sequence[str],
    fractions: Sequence[float] | Mapping[str, Sequence[float]] = DEFAULT_FRACTIONS,
    seed: int = 0,
    keep: Mapping[str, str] | None = None,
    weights: Sequence[float] | None = None,
) -> list[str]:
    """Split name for each item.

    Items sharing a group always share a split. Within each stratum (the source, so every split gets
    its share of every source), groups are shuffled by `seed` and laid end to end; a group goes to the
    split in which its middle falls. The order depends only on the item `keys`, not on input order,
    so the same data and seed always give the same split.

    `keep` (key -> split, a kept split list) overrides that for every group with a listed item: the group
    goes to the earliest split any of its listed items had (train before val before test), so a photo
    once trained on never lands in val or test, nor does a copy of it. The other groups are laid out
    as above among themselves.

    `fractions` may be given per stratum (a mapping; strata it does not name get DEFAULT_FRACTIONS), and
    `weights` (faces per item) lays groups out by their faces instead of their photos: one crowd photo
    holds as many faces as fifty portraits, so a split by photos leaves its share of small faces to chance.
    """
    keep = keep or {}
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    out = [""] * len(keys)
    by_stratum: dict[str, list[list[int]]] = defaultdict(list)
    for idx in members.values():
        idx.sort(key=lambda i: keys[i])
        listed = [SPLITS.index(keep[keys[i]]) for i in idx if keys[i] in keep]
        if listed:
            for i in idx:
                out[i] = SPLITS[min(listed)]
        else:
            by_stratum[strata[idx[0]]].append(idx)

    size = (lambda idx: len(idx)) if weights is None else (lambda idx: sum(weights[i] for i in idx))
    for stratum in sorted(by_stratum):
        group_list = sorted(by_stratum[stratum], key=lambda idx: keys[idx[0]])
        random.Random(f"{seed}:{stratum}").shuffle(group_list)
        shares = fractions.get(stratum, DEFAULT_FRACTIONS) if isinstance(fractions, Mapping) else fractions
        total = sum(size(g) for g in group_list)
        bounds = [total * sum(shares[: k + 1]) for k in range(len(SPLITS))]
        seen = 0.0
        for idx in group_list:
            middle = seen + size(idx) / 2
            split = next((s for s, b in zip(SPLITS, bounds, strict=True) if middle < b), SPLITS[-1])
            for i in idx:
                out[i] = split
            seen += size(idx)
    return out


def moved_by_keep(keys: Sequence[str], splits: Sequence[str], keep: Mapping[str, str]) -> dict[str, int]:
    """How many listed items a kept split list could not leave where they were, as 'val->train': n
    (each moved with a copy of it that was listed in an earlier split)."""
    moves = Counter(f"{keep[k]}->{s}" for k, s in zip(keys, splits, strict=True) if k in keep and keep[k] != s)
    return dict(sorted(moves.items()))


def read_split_list(path: Path) -> dict[str, str]:
    """image -> split from a splits.csv (SPLIT_LIST_COLUMNS; only `image` and `split` are read)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SplitError(f"--keep-split {path}: cannot read it ({e})") from e
    if rows and not {"image", "split"} <= set(rows[0]):
        raise SplitError(f"--keep-split {path}: needs the columns image and split (a merged dataset's splits.csv)")
    bad = next((r for r in rows if r["split"] not in SPLITS), None)
    if bad is not None:
        raise SplitError(f"--keep-split {path}: {bad['image']!r} has split {bad['split']!r}, not one of {SPLITS}")
    return {r["image"]: r["split"] for r in rows}


def write_split_list(
    path: Path, keys: Sequence[str], sources: Sequence[str], groups: Sequence[int], splits: Sequence[str]
) -> None:
    """splits.csv: every photo's file stem, source, group of copies and split, sorted by image."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(SPLIT_LIST_COLUMNS)
        writer.writerows(sorted(zip(keys, sources, map(int, groups), splits, strict=True)))
