"""Leak-free train/val/test splitting: whole groups of near-duplicates go to one split."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

SPLITS = ("train", "val", "test")


def parse_fractions(text: str | Sequence[float]) -> tuple[float, float, float]:
    """'85/10/5', '0.85,0.1,0.05' or a sequence -> fractions summing to 1."""
    if isinstance(text, str):
        parts = [p for p in text.replace(",", "/").split("/") if p.strip()]
        values = [float(p) for p in parts]
    else:
        values = [float(v) for v in text]
    if len(values) != 3 or min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"--split needs three non-negative numbers (train/val/test), got {text!r}")
    total = sum(values)
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
