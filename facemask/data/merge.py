"""Merge face-mask datasets into one clean, leak-free YOLO dataset (the engine of prepare_data.py).

Steps: read every source image and its label (in parallel), judge it (label problems, incorrect
masks, bad boxes, blur), hash and fingerprint it (merge_judge); drop near-duplicates across all sources;
find augmented copies (near_copies, merge_select); split whole groups of copies and similar photos
85/10/5 per source; write images and YOLO labels, with 90/180/270 degree copies and (`slices`)
sliced copies of crowd photos, of training images only (merge_write). The dataset is built in a
hidden folder beside the output and moved into place only when complete.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facemask.classes import output_names
from facemask.data.data_yaml import write_data_yaml
from facemask.data.layout import discover
from facemask.data.merge_judge import Judged, judge_sample
from facemask.data.merge_options import NEGATIVES, MergeOptions
from facemask.data.merge_select import cap_negatives, drop_duplicates, group_copies
from facemask.data.merge_write import make_split_folders, split_stats, write_jobs, write_sample
from facemask.data.report import MergeReport, group_stats
from facemask.data.sources import Sample, SourceSpec, image_files, load_sources
from facemask.data.split import assign_splits, moved_by_keep, read_split_list, write_split_list
from facemask.errors import FacemaskError
from facemask.owned_dirs import check_output, is_ours, mark, publish
from facemask.paths import SOURCES_CONFIG

DATASET = "dataset"  # the kind of output folder the merge makes (owned_dirs)
ULTRALYTICS_CACHES = ["labels/*.cache"]  # written by ultralytics' loader beside our label folders


class MergeError(FacemaskError, FileNotFoundError):
    """Nothing to merge: no source found where the config says."""


def merge(
    sources_dir: Path | None,
    out: Path,
    config: Path = SOURCES_CONFIG,
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
    opts, added, out = opts or MergeOptions(), list(added), Path(out)
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
        _build(tmp, specs, samples, opts, report, progress)
        report.wall_time_s = round(time.perf_counter() - t0, 1)
        report.save(tmp / "report.json")
        report.plot(tmp / "report.png")
        publish(tmp, out, DATASET, ULTRALYTICS_CACHES)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _build(
    root: Path,
    specs: dict[str, SourceSpec],
    samples: list[Sample],
    opts: MergeOptions,
    report: MergeReport,
    progress: bool,
) -> None:
    """Judge the samples, keep one of each set of copies, split the groups and write the dataset into
    `root`, filling in the `report`."""
    stage = root / "staging"
    stage.mkdir(parents=True)
    judge = functools.partial(judge_sample, specs=specs, opts=opts, stage_dir=stage)
    judged = list(_parallel(judge, samples, opts.workers, "Reading", progress))
    drop_duplicates(judged, opts.dup_distance)
    kept, groups = group_copies(judged, opts, progress)
    kept, groups = cap_negatives(kept, groups, opts)
    splits = _splits(kept, groups, specs, opts, report)
    for j in judged:
        report.add_image(j.source, j.rel, j.box_classes, j.box_reasons, j.reason, j.detail)

    names = output_names(opts.incorrect)
    make_split_folders(root)
    jobs = write_jobs(kept, splits, names, opts)
    written = list(_parallel(functools.partial(write_sample, root=root), jobs, opts.workers, "Writing", progress))
    report.splits = split_stats(jobs, written, names)
    shutil.rmtree(stage)
    write_data_yaml(root / "data.yaml", names, path=None)
    write_split_list(root / "splits.csv", [j.name for j in kept], [j.source for j in kept], groups, splits)


def _splits(
    kept: list[Judged], groups: np.ndarray, specs: dict[str, SourceSpec], opts: MergeOptions, report: MergeReport
) -> list[str]:
    """The split of each kept photo: whole groups per source, by each source's shares, the kept split list's
    photos where they were (report.groups and report.kept_split say how it went)."""
    keys, sources = [j.name for j in kept], [j.source for j in kept]
    report.groups = group_stats(sources, groups)
    keep = read_split_list(Path(opts.keep_split)) if opts.keep_split else {}
    shares = {spec.name: spec.split or opts.split for spec in specs.values()}
    faces = [len(j.boxes) + 1 for j in kept]  # groups laid out by faces: a crowd photo weighs as its faces
    splits = assign_splits(keys, groups, sources, shares, opts.seed, keep, weights=faces)
    if opts.keep_split:
        listed = sum(k in keep for k in keys)
        report.kept_split = {"file": opts.keep_split, "listed": listed, "moved": moved_by_keep(keys, splits, keep)}
    return splits


def _parallel(fn: Callable, items: list, workers: int, desc: str, progress: bool) -> Iterator:
    """map() over both cores with a progress bar; in-process for one worker (tests, debugging)."""
    bar = functools.partial(tqdm, total=len(items), desc=desc, unit="img", disable=not progress, leave=True)
    if workers <= 1 or len(items) < 2:
        yield from bar(map(fn, items))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from bar(pool.map(fn, items, chunksize=max(1, min(32, len(items) // (workers * 8)))))


def _negatives(folder: Path) -> list[Sample]:
    if not folder.is_dir():
        raise MergeError(f"--negatives {folder}: no such folder")
    return [Sample(NEGATIVES, p, None, p.relative_to(folder).as_posix()) for p in image_files(folder)]


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
