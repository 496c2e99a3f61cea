"""The leak check: whether a val/test photo of a merged dataset has a near-copy in its train split,
found independently of the merge (leak_check.py at the top runs it; its docstring says how).

A near-copy is an augmented copy (rotated a few degrees, skewed, stretched, cropped, mirrored,
darkened) or a near-identical frame of the same scene. The merge (facemask/data/near_copies.py) finds
them with 16 px thumbnail neighbours and ORB keypoints under an affine RANSAC model; this check shares
neither stage, so a blind spot of one is unlikely to be a blind spot of the other:

1. candidates, `k` per val/test photo, taken in turn from two rankings of all train photos: SIFT
   descriptor votes, and the similarity of a global CNN embedding (leak_check_features, leak_check_match);
2. verification: SIFT keypoints of the photo and of its mirror image matched to the candidate's; a copy
   when one plausible homography explains at least `min_inliers` of them and those inliers reach across
   the photo (`min_spread`).

Every run calibrates itself: random pairs of different photos (where false alarms live) and synthetic
augmented copies of query photos (the check's recall end to end) are verified too (leak_check_report).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from facemask.data.leak_check_features import Photo, describe, init_backbone
from facemask.data.leak_check_match import VoteIndex, init_keys, interleave, rank_of, verify
from facemask.data.leak_check_options import LeakOptions
from facemask.data.leak_check_photos import LeakCheckError, list_photos
from facemask.data.leak_check_result import Compared, Found, LeakResult, Synthetic
from facemask.errors import warn
from facemask.paths import DATASETS_DIR

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_DATA = DATASETS_DIR / "face_masks_upright"


def check(root: Path = DEFAULT_DATA, options: LeakOptions | None = None) -> LeakResult:
    """Compare the `options.splits` of the merged dataset at `root` (images/<split>/) with its train split."""
    options = options or LeakOptions()
    if Path(options.weights).suffix == ".pt" and not Path(options.weights).is_file():
        raise LeakCheckError(f"--weights {options.weights}: no such file (any ultralytics YOLOv5 .pt will do)")
    compared = gather(root, options.splits)
    print(
        f"{root}: {len(compared.train)} train photos; "
        + ", ".join(f"{compared.query_split.count(s)} {s}" for s in compared.splits)
    )
    times, t = {}, time.perf_counter()
    compared, photos, skipped = describe_photos(compared, options)
    rng = np.random.default_rng(options.seed)
    synthetic, copies = synthetic_copies(compared, options, rng)
    keys = {i: ph.keys for i, ph in zip(compared.train_id + compared.query_id, photos, strict=True)}
    keys.update({sid: c.keys for sid, c in zip(synthetic.ids, copies, strict=True)})
    times["embeddings + keypoints"], t = time.perf_counter() - t, time.perf_counter()
    nt, k = len(compared.train), min(options.k, len(compared.train))
    cands, vote_rank, cnn_rank, sim = rank_candidates(photos, nt, k)
    synthetic.ranks = synthetic_ranks(photos, nt, copies, synthetic.of, sim, k)
    times["candidates"], t = time.perf_counter() - t, time.perf_counter()
    random_jobs = random_pairs(compared, options.random_pairs, rng)
    jobs = [(i, cands[i]) for i in range(len(compared.queries))]
    scores, random_scores, synthetic.scores = verify_all(compared, jobs, random_jobs, synthetic, keys, options)
    place = [(np.argsort(v), np.argsort(c)) for v, c in zip(vote_rank, cnn_rank, strict=True)]  # photo -> rank
    pairs = [
        Found(i, j, inl, mir, spr, int(place[i][0][j]), int(place[i][1][j]))
        for i, row in enumerate(scores)
        for j, (inl, mir, spr) in zip(cands[i], row, strict=True)
    ]
    times["verification"] = time.perf_counter() - t
    return LeakResult(compared, options, k, pairs, random_scores, synthetic, keys, times, skipped)


def gather(root: Path, splits: Sequence[str]) -> Compared:
    """The train photos and those of `splits` under root/images/<split>/."""
    images = Path(root) / "images"
    train = list_photos(images / "train")
    queries = {s: list_photos(images / s) for s in splits}
    compared = Compared(
        Path(root),
        list(splits),
        train,
        [q for s in splits for q in queries[s]],
        [s for s in splits for _ in queries[s]],
    )
    return enough(compared, "")


def enough(compared: Compared, which: str) -> Compared:
    """`compared`, unless it has fewer than two train photos or no query."""
    if len(compared.train) < 2 or not compared.queries:
        raise LeakCheckError(
            f"nothing to compare under {compared.root / 'images'}: {len(compared.train)} train, "
            f"{len(compared.queries)} {'/'.join(compared.splits)} photos{which}"
        )
    return compared


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


def describe_photos(compared: Compared, options: LeakOptions) -> tuple[Compared, list[Photo], list[tuple[Path, str]]]:
    """Embeddings and keypoints of every photo (queries also mirrored). A photo that does not decode is
    reported in a line and left out of what is compared."""
    tasks = [(f, "train", 0) for f in compared.train] + [(f, "query", 0) for f in compared.queries]
    described = parallel(describe, tasks, options.workers, "Reading", init_backbone, (str(options.weights),))
    skipped = [(path, why) for (path, _, _), (photo, why) in zip(tasks, described, strict=True) if photo is None]
    if not skipped:
        return compared, [photo for photo, _ in described], skipped
    for path, why in skipped:
        warn(f"skipped {path}: {why}")
    bad = {path for path, _ in skipped}
    train = [f for f in compared.train if f not in bad]
    queries = [(f, s) for f, s in zip(compared.queries, compared.query_split, strict=True) if f not in bad]
    kept = Compared(compared.root, compared.splits, train, [f for f, _ in queries], [s for _, s in queries])
    return enough(kept, " that decode"), [photo for photo, _ in described if photo is not None], skipped


def synthetic_copies(compared: Compared, options: LeakOptions, rng: np.random.Generator) -> tuple[Synthetic, list]:
    """Augmented copies of `options.synthetic` queries picked at random, described as train photos."""
    nq = len(compared.queries)
    of = sorted(rng.choice(nq, min(options.synthetic, nq), replace=False).tolist()) if options.synthetic > 0 else []
    seeds = [options.seed * 100_003 + i for i in of]
    tasks = [(compared.queries[i], "synthetic", seed) for i, seed in zip(of, seeds, strict=True)]
    described = parallel(describe, tasks, options.workers, "Copying", init_backbone, (str(options.weights),))
    return Synthetic(of, seeds, [notes for _, notes in described]), [photo for photo, _ in described]


def rank_candidates(photos: list[Photo], nt: int, k: int) -> tuple[list[list[int]], list, list, np.ndarray]:
    """Each query's k candidates (descriptor votes and CNN similarity in turn), both rankings of all train
    photos, and the similarities (queries x train: cosine, as it is or mirrored)."""
    train_emb = np.concatenate([ph.embedding for ph in photos[:nt]])  # (nt, D)
    query_emb = np.stack([ph.embedding for ph in photos[nt:]])  # (nq, 2, D)
    sim = np.einsum("mvd,nd->mvn", query_emb, train_emb).max(axis=1)  # (nq, nt)
    index = VoteIndex([ph.keys for ph in photos[:nt]])
    votes = [index.query(ph.keys) for ph in tqdm(photos[nt:], desc="Voting", leave=False)]
    vote_rank = [rank_of(v) for v in votes]
    cnn_rank = [rank_of(s) for s in sim]
    cands = [interleave((v[:k], c[:k]), k) for v, c in zip(vote_rank, cnn_rank, strict=True)]
    return cands, vote_rank, cnn_rank, sim


def synthetic_ranks(
    photos: list[Photo], nt: int, copies: list[Photo], of: list[int], sim: np.ndarray, k: int
) -> list[tuple[int, int, bool]]:
    """Each copy's place among all train photos (it as number nt) by votes and by CNN, and whether it is
    among its query's k candidates."""
    if not copies:
        return []
    index = VoteIndex([ph.keys for ph in photos[:nt]] + [c.keys for c in copies])
    ranks = []
    for n, i in enumerate(of):
        query = photos[nt + i]
        v = index.query(query.keys)
        v = np.append(v[:nt], v[nt + n])  # the train photos and this copy
        s = np.append(sim[i], float((query.embedding @ copies[n].embedding[0]).max()))
        rv, rc = rank_of(v), rank_of(s)
        fused = interleave((rv[:k], rc[:k]), k)
        ranks.append((int(np.flatnonzero(rv == nt)[0]), int(np.flatnonzero(rc == nt)[0]), nt in fused))
    return ranks


def random_pairs(compared: Compared, n: int, rng: np.random.Generator) -> list[tuple[int, list[int]]]:
    """`n` random (query, train) pairs of different photos (not of one name), grouped by query."""
    nq, nt = len(compared.queries), len(compared.train)
    pairs = [(int(rng.integers(nq)), int(rng.integers(nt))) for _ in range(n)]
    by_query: dict[int, list[int]] = {}
    for i, j in pairs:
        if compared.queries[i].name != compared.train[j].name:
            by_query.setdefault(i, []).append(j)
    return list(by_query.items())


def verify_all(
    compared: Compared, jobs: list, random_jobs: list, synthetic: Synthetic, keys: dict, options: LeakOptions
) -> tuple[list, list, list]:
    """(inliers, mirrored, spread) of each candidate (per query), of the random pairs (as query, train,
    inliers, spread) and of each synthetic copy with its query, all verified in one go."""
    query_id, train_id = compared.query_id, compared.train_id
    tasks = [(query_id[i], [train_id[j] for j in js]) for i, js in jobs + random_jobs]
    tasks += [(query_id[i], [sid]) for i, sid in zip(synthetic.of, synthetic.ids, strict=True)]
    scores = parallel(verify, tasks, options.workers, "Verifying", init_keys, (keys,))
    random_scores = [
        (i, j, inl, spr)
        for (i, js), row in zip(random_jobs, scores[len(jobs) : len(jobs) + len(random_jobs)], strict=True)
        for j, (inl, _, spr) in zip(js, row, strict=True)
    ]
    return scores[: len(jobs)], random_scores, [row[0] for row in scores[len(jobs) + len(random_jobs) :]]
