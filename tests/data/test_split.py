from collections import Counter

import pytest

from facemask.data.split import assign_splits, parse_fractions


def test_fractions_parse() -> None:
    assert parse_fractions("85/10/5") == pytest.approx((0.85, 0.10, 0.05))
    assert parse_fractions("0.8,0.1,0.1") == pytest.approx((0.8, 0.1, 0.1))
    for bad in ("90/10", "0.5,0.6,0.1", "8,1,1", "85/-5/20", "a/b/c", "nan/0/0"):
        with pytest.raises(ValueError, match="--split"):
            parse_fractions(bad)


def test_groups_stay_together_and_proportions_hold_per_source() -> None:
    n = 1000
    keys = [f"img{i:04d}" for i in range(n)]
    groups = [i // 4 if i < 200 else i for i in range(n)]  # 50 groups of 4 near-duplicates
    strata = ["a" if i % 3 else "b" for i in range(n)]
    out = assign_splits(keys, groups, strata, (0.85, 0.10, 0.05), seed=1)
    for g in range(50):
        assert len({out[i] for i in range(4 * g, 4 * g + 4)}) == 1
    for s in "ab":
        c = Counter(o for o, st in zip(out, strata, strict=True) if st == s)
        total = sum(c.values())
        assert c["train"] / total == pytest.approx(0.85, abs=0.02)
        assert c["test"] / total == pytest.approx(0.05, abs=0.02)


def test_split_depends_on_keys_and_seed_not_order() -> None:
    keys = [f"k{i}" for i in range(200)]
    a = assign_splits(keys, list(range(200)), ["s"] * 200, seed=0)
    rev = assign_splits(keys[::-1], list(range(200)), ["s"] * 200, seed=0)
    assert dict(zip(keys, a, strict=True)) == dict(zip(keys[::-1], rev, strict=True))
    assert assign_splits(keys, list(range(200)), ["s"] * 200, seed=1) != a
