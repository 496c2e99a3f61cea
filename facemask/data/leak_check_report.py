"""The leak check's figures, printed: its calibration (random pairs of different photos, every candidate
pair, synthetic copies), the share of each split's photos with a near-copy in train, and the matches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from facemask.data.leak_check_result import LeakResult

INLIER_BINS = (0, 5, 10, 15, 20, 25, 30, 50, 100, 200)
SPREAD_BINS = (0, 10, 20, 30, 40, 60)  # per cent
SHOWN = 12  # best candidates of the other queries listed


def percentiles(values: Iterable[int]) -> str:
    v = np.asarray(list(values))
    if not len(v):
        return "none"
    q = np.percentile(v, [50, 90, 99, 99.9])
    return f"median {q[0]:.0f}, p90 {q[1]:.0f}, p99 {q[2]:.0f}, p99.9 {q[3]:.0f}, max {v.max()} (n={len(v)})"


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


def print_report(r: LeakResult) -> None:
    print_calibration(r)
    print_synthetic(r)
    print_shares(r)
    print_matches(r)


def print_calibration(r: LeakResult) -> None:
    """Random pairs of different photos (where false alarms live), and the candidate pairs' inliers and spread."""
    o, query_id, train_id = r.options, r.compared.query_id, r.compared.train_id
    print(f"\nCalibration (--min-inliers {o.min_inliers}, --min-spread {o.min_spread}, --k {r.k}):")
    verified_pairs = {(f.query, f.train) for f in r.verified}
    known = [s for s in r.random_scores if (s[0], s[1]) in verified_pairs]
    rand = [s for s in r.random_scores if (s[0], s[1]) not in verified_pairs]
    print(f"  random pairs of different photos, inliers: {percentiles(s[2] for s in rand)}")
    if known:
        print(f"    ({len(known)} more random pairs are near-copies the check found among the candidates; left out)")
    over = [s for s in rand if o.is_copy(s[2], s[3])]
    print(f"    random pairs that pass as copies although not among the verified candidates: {len(over)}")
    for i, j, inl, spr in over:
        print(f"      {query_id[i]} ~ {train_id[j]}: {inl} inliers, spread {spr:.2f}")
    print(f"  all {len(r.pairs)} candidate pairs, by inliers: {histogram(f.inliers for f in r.pairs)}")
    spreads = (round(f.spread * 100) for f in r.pairs if f.inliers >= o.min_inliers)
    print(f"    with {o.min_inliers}+ inliers, by spread: {histogram(spreads, SPREAD_BINS, 100)}")
    print(
        f"    {len(r.low_spread)} of them fail on spread (a shared watermark, banner or logo, or one part of a scene)"
    )
    for f in r.low_spread[:5]:
        print(f"      {query_id[f.query]} ~ {train_id[f.train]}: {f.inliers} inliers, spread {f.spread:.2f}")


def print_synthetic(r: LeakResult) -> None:
    """The synthetic copies: their rank in each candidate list among all train photos, and their match."""
    syn = r.synthetic
    if not syn.of:
        return
    rv, rc, fused = (np.array([ranks[n] for ranks in syn.ranks]) for n in range(3))
    ok = np.array([r.options.is_copy(inl, spr) for inl, _, spr in syn.scores])
    print(
        f"  {len(syn.of)} synthetic augmented copies of query photos, ranked among all {len(r.compared.train)} "
        "train photos:"
    )
    print(f"    by descriptor votes: {percentiles(rv)}")
    print(f"    by CNN embedding:    {percentiles(rc)}")
    print(f"    among the {r.k} candidates: {int(fused.sum())}")
    spreads = histogram((round(s[2] * 100) for s in syn.scores), SPREAD_BINS, 100)
    print(f"    inliers: {percentiles(s[0] for s in syn.scores)}; spread: {spreads}")
    print(
        f"    verified: {int(ok.sum())}; found end to end (a candidate and verified): {int((ok & fused).sum())} "
        f"of {len(syn.of)}"
    )
    for n in np.flatnonzero(~(ok & fused)):
        print(
            f"      missed: copy of {r.compared.query_id[syn.of[n]]} ({syn.notes[n]}): ranks {rv[n]}/{rc[n]}, "
            f"{syn.scores[n][0]} inliers, spread {syn.scores[n][2]:.2f}"
        )


def print_shares(r: LeakResult) -> None:
    print("\n| split | photos checked | with a near-copy in train | share |")
    print("| --- | --- | --- | --- |")
    for split, (n, count, share) in r.shares().items():
        print(f"| {split} | {n} | {count} | {share:.1%} |")


def print_matches(r: LeakResult) -> None:
    """Each query with a near-copy: its best train match (and how many more), then the others' best candidates."""
    query_id, train_id = r.compared.query_id, r.compared.train_id
    by_vote = sum(f.vote_rank < r.k for f in r.verified)
    by_cnn = sum(f.cnn_rank < r.k for f in r.verified)
    print(
        f"\n{len(r.verified)} verified pairs; the train photo was in the top {r.k} of descriptor votes in "
        f"{by_vote}, of the CNN in {by_cnn}"
    )
    print(
        f"Matches ({len(r.leaks)} queries): query ~ best train match, inliers, spread (+ other train copies verified)"
    )
    copies = {f.query: 0 for f in r.leaks}
    for f in r.verified:
        copies[f.query] = copies.get(f.query, 0) + 1
    for f in r.leaks:
        more = f" (+{copies[f.query] - 1})" if copies[f.query] > 1 else ""
        mirror = " mirrored" if f.mirrored else ""
        print(f"  {query_id[f.query]}  ~  {train_id[f.train]}  {f.inliers}{mirror}, {f.spread:.2f}{more}")
    if r.below:
        print("Best candidates of the other queries:")
        for f in r.below[:SHOWN]:
            mirror = " mirrored" if f.mirrored else ""
            print(f"  {query_id[f.query]}  ~  {train_id[f.train]}  {f.inliers}{mirror}, {f.spread:.2f}")
