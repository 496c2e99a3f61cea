"""Leak-free train/val/test splitting: whole groups of near-duplicates go to one split."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence

from facemask.errors import FacemaskError

SPLITS = ("train", "val", "test")


class SplitError(FacemaskError, ValueError):
    """A --split that is not three shares adding up to 1 (or 100)."""


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
    fractions: Sequence[float] = (0.85, 0.10, 0.05),
    seed: int = 0,
) -> list[str]:
    """Split name for each item.

    Items sharing a group always share a split. Within each stratum (the source, so every split gets
    its share of every source), groups are shuffled by `seed` and laid end to end; a group goes to the
    split in which its middle falls. The order depends only on the item `keys`, not on input order,
    so the same data and seed always give the same split.
    """
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    by_stratum: dict[str, list[list[int]]] = defaultdict(list)
    for idx in members.values():
        idx.sort(key=lambda i: keys[i])
        by_stratum[strata[idx[0]]].append(idx)

    out = [""] * len(keys)
    for stratum in sorted(by_stratum):
        group_list = sorted(by_stratum[stratum], key=lambda idx: keys[idx[0]])
        random.Random(f"{seed}:{stratum}").shuffle(group_list)
        total = sum(len(g) for g in group_list)
        bounds = [total * sum(fractions[: k + 1]) for k in range(len(SPLITS))]
        seen = 0
        for idx in group_list:
            middle = seen + len(idx) / 2
            split = next((s for s, b in zip(SPLITS, bounds, strict=True) if middle < b), SPLITS[-1])
            for i in idx:
                out[i] = split
            seen += len(idx)
    return out
