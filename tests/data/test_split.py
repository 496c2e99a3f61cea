from collections import Counter

import pytest

from facemask.data.split import (
    SPLITS,
    SplitError,
    assign_splits,
    moved_by_keep,
    parse_fractions,
    read_split_list,
    write_split_list,
)


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


def test_a_kept_split_stays_and_copies_join_the_earliest_split() -> None:
    keys = [f"k{i:03}" for i in range(300)]
    groups = list(range(300))
    groups[1] = 0  # k001 is a copy of k000, newly found
    fresh = assign_splits(keys, groups, ["s"] * 300, seed=0)
    keep = {k: s for k, s in zip(keys, assign_splits(keys, list(range(300)), ["s"] * 300, seed=5), strict=True)}
    keep["k000"], keep["k001"] = "test", "train"
    del keep["k299"]  # a photo the list does not know
    out = assign_splits(keys, groups, ["s"] * 300, seed=0, keep=keep)
    assert out[0] == out[1] == "train"  # the copy of a trained-on photo does not stay in test
    assert all(out[i] == keep[k] for i, k in enumerate(keys) if i > 1 and k in keep)
    assert out[299] in SPLITS and out != fresh
    assert moved_by_keep(keys, out, keep) == {"test->train": 1}


def test_split_lists_round_trip_and_bad_ones_are_one_line(tmp_path) -> None:
    path = tmp_path / "splits.csv"
    write_split_list(path, ["b", "a"], ["src", "src"], [1, 0], ["val", "train"])
    assert path.read_text().splitlines() == ["image,source,group,split", "a,src,0,train", "b,src,1,val"]
    assert read_split_list(path) == {"a": "train", "b": "val"}
    (tmp_path / "bad.csv").write_text("image,split\na,holdout\n")
    (tmp_path / "other.csv").write_text("name,fold\na,1\n")
    for bad, needle in (("bad.csv", "'holdout'"), ("other.csv", "columns image and split"), ("no.csv", "cannot read")):
        with pytest.raises(SplitError, match=needle):
            read_split_list(tmp_path / bad)


def test_each_source_gets_its_own_shares_and_crowds_weigh_by_their_faces() -> None:
    # 100 crowd photos of 20 faces and 100 portraits of one face, each photo a group of its own
    keys = [f"c{i:03d}" for i in range(100)] + [f"p{i:03d}" for i in range(100)]
    strata = ["crowd"] * 100 + ["portraits"] * 100
    faces = [21] * 100 + [2] * 100  # faces + 1, as the merge passes them
    shares = {"crowd": (0.6, 0.2, 0.2)}  # portraits: the default 85/10/5
    splits = assign_splits(keys, list(range(200)), strata, shares, seed=0, weights=faces)
    crowd, portraits = Counter(splits[:100]), Counter(splits[100:])
    assert crowd == {"train": 60, "val": 20, "test": 20} and portraits == {"train": 85, "val": 10, "test": 5}
