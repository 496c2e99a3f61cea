"""Merge public face-mask datasets into one clean, leak-free YOLO dataset (classes 0 Mask, 1 No Mask).

The sources, their formats and class maps are declared in configs/datasets.yaml.

Usage:
    python prepare_data.py --sources ../shared/datasets             # local copies of the sources
    python prepare_data.py --download                              # fetch them (Kaggle API, ...)
    python prepare_data.py --sources DIR --incorrect no-mask       # count incorrect masks as No Mask
    python prepare_data.py --sources DIR --blur-threshold 60 --no-rotate --out datasets/plain --exist-ok
    python prepare_data.py --sources DIR --negatives photos_without_faces/ --negatives-share 0.1
    python prepare_data.py --sources DIR --slices 512      # add 512 px tiles of training crowd photos
    python prepare_data.py --sources DIR --keep-split none --seed 3       # a split of its own, not the model's
    python prepare_data.py --sources DIR --add my_set/ --add roboflow_export/   # your own sets beside them
    python prepare_data.py --add reviewed/ --class-map face="No Mask"       # only yours; its 'face' is No Mask
    python prepare_data.py --upload-roboflow my-workspace/face-masks       # send --out to Roboflow as it is

--add PATH reads a YOLO folder (names from data.yaml, classes.txt or obj.names), a Pascal VOC folder, a
COCO JSON set (Roboflow's _annotations.coco.json per split folder), a Label Studio JSON export or a CVAT
XML, with the photos beside them; its class names get their meaning from facemask/classes.py's
vocabulary, printed before anything is written. A name that is not in it, or that means different
things in different sets (face, person, head), stops the run until --class-map says what it is.

Every merged dataset lists its split in splits.csv. By default the merge keeps the split the shipped model
was trained and measured on (data/face_masks_splits.csv, or data/face_masks_3class_splits.csv with
--incorrect class): photos listed there stay where they were, except that a photo with a copy in an
earlier split joins it (train before val before test), so no photo the model saw lands in val or test.

Python:
    from prepare_data import run
    report = run(sources="../shared/datasets", out="datasets/face_masks", exist_ok=True)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from facemask.classes import INCORRECT_POLICIES, class_map_of, parse_class_map
from facemask.cli import checked, flag, float_range, image_size, int_range, positive_int, run_or_fail, script_parser
from facemask.data.data_yaml import same_dataset, write_data_yaml, written_by_us
from facemask.data.download import download_sources
from facemask.data.layout import resolve_added
from facemask.data.merge import merge
from facemask.data.merge_options import MergeOptions, all_cores
from facemask.data.quality import BLUR_SCOPES
from facemask.data.report import DUPLICATE, EMPTY_LABEL, INCORRECT_MASK, MergeReport
from facemask.data.sources import SourceSpec, load_sources
from facemask.data.split import parse_fractions, read_split_list
from facemask.data.upload import check_upload, upload
from facemask.owned_dirs import check_output, check_output_file
from facemask.paths import DEFAULT_DATA, MERGED_DATASET, PROJECT_ROOT, SOURCES_CACHE, SOURCES_CONFIG, SPLIT_LISTS

M = MergeOptions()  # the merge's defaults, written once there; run() and parse_opt() read them
SHIPPED_SPLIT = "default"  # --keep-split: the split list of the shipped model (paths.SPLIT_LISTS), where it exists
POLICY_DROPS = (DUPLICATE, INCORRECT_MASK)  # drops by design, not problems with the input


def run(
    sources: str | Path | None = None,  # folder holding each configured source's folder (../shared/datasets)
    download: bool = False,  # fetch the configured sources into `cache` instead (Kaggle API, Roboflow, URLs)
    config: str | Path = SOURCES_CONFIG,  # the sources: folder, format, class map, download, split shares
    out: str | Path = MERGED_DATASET,  # the merged dataset's folder
    data: str | Path = DEFAULT_DATA,  # dataset yaml pointed at `out` (kept if it names another, unless exist_ok)
    cache: str | Path = SOURCES_CACHE,  # where `download` puts the sources
    incorrect: str = M.incorrect,  # incorrectly worn masks: "drop" their images, count as "no-mask", or a "class"
    min_box: float = M.min_box,  # drop boxes narrower or shorter than this (pixels)
    blur_threshold: float | None = M.blur_threshold,  # drop images less sharp (variance of the Laplacian); None: off
    blur_scope: str = M.blur_scope,  # measure sharpness on the "image" or its "faces"
    dup_distance: int = M.dup_distance,  # pHash bits: at most this far apart = duplicates, kept once
    group_distance: int = M.group_distance,  # pHash bits: at most this far apart = one split (and copies)
    split: str | Sequence[float] = M.split,  # train/val/test shares: "85/10/5", "0.7,0.2,0.1" or three numbers
    seed: int = M.seed,  # seed of the split (and of which negatives stay)
    rotate: bool = M.rotate,  # add 90/180/270 degree copies of the training images
    slices: int | None = M.slices,  # add tiles this many pixels wide of training photos with 5+ faces; None: off
    negatives: str | Path | None = M.negatives,  # folder of photos without faces, kept as background images
    negatives_share: float = M.negatives_share,  # at most this share of the merged photos are negatives
    keep_split: str | Path | None = SHIPPED_SPLIT,  # splits.csv to keep; "default": the shipped model's; None: new
    workers: int | None = None,  # processes (None: all cores)
    exist_ok: bool = False,  # replace `out` and `data` if this project wrote them
    progress: bool = True,  # show progress bars
    add: Sequence[str | Path] = (),  # your own sets (YOLO, VOC, COCO JSON, Label Studio, CVAT) merged beside them
    class_map: dict[str, str] | Sequence[str | tuple[str, str]] = (),  # NAME=MEANING for the `add` sets' names
    upload_roboflow: str | None = None,  # WORKSPACE/PROJECT to send the merged dataset (or `out` as it is) to
) -> MergeReport | None:
    """Merge the sources (and the `add` sets) into `out`, point `data` at it, print the report; returns the
    report, or None when there was nothing to merge and `out` was sent to Roboflow as it is."""
    if sources is None and not download and not add:  # nothing to merge: --out is sent as it is
        return _send_as_it_is(Path(out), upload_roboflow)
    class_map, added = _added_sets(sources, download, add, class_map, upload_roboflow, config, out)
    keep_split = _split_list(keep_split, incorrect)
    _check_outputs(Path(out), Path(data), Path(cache), sources, exist_ok)  # before any download
    opts = MergeOptions(
        incorrect=incorrect,
        min_box=min_box,
        blur_threshold=blur_threshold,
        blur_scope=blur_scope,
        dup_distance=dup_distance,
        group_distance=group_distance,
        split=parse_fractions(split),
        seed=seed,
        rotate=rotate,
        slices=slices or None,
        negatives=str(negatives) if negatives else None,
        negatives_share=negatives_share,
        keep_split=keep_split,
        class_map=class_map,
        added=[str(a) for a in add],
        workers=workers or all_cores(),
    )
    if download:
        sources = download_sources(load_sources(config), Path(cache))
    sources_dir = Path(sources) if sources is not None else None
    report = merge(
        sources_dir, Path(out), Path(config), opts, exist_ok=exist_ok, progress=progress, protected=[cache], added=added
    )
    _publish(report, Path(out), Path(data), exist_ok, upload_roboflow)
    return report


def _send_as_it_is(out: Path, upload_roboflow: str | None) -> None:
    """With nothing to merge, the only job left: send `out` to Roboflow as it is."""
    if upload_roboflow is None:
        raise ValueError("give --sources DIR, --download or --add PATH")
    upload(out, upload_roboflow)


def _added_sets(
    sources: str | Path | None,
    download: bool,
    add: Sequence[str | Path],
    class_map: dict[str, str] | Sequence[str | tuple[str, str]],
    upload_roboflow: str | None,
    config: str | Path,
    out: str | Path,
) -> tuple[dict[str, str], list[SourceSpec]]:
    """The --class-map and the --add sources, their class maps said; every check that needs no merge (a
    name without meaning, a Roboflow key) made first, so that nothing is written or downloaded in vain."""
    if sources is not None and download:
        raise ValueError("give --sources DIR or --download, not both")
    if upload_roboflow:
        check_upload(upload_roboflow, f"the dataset merged into {out}")
    class_map = class_map_of(class_map)
    configured = [s.name for s in load_sources(config)] if sources is not None or download else []
    return class_map, resolve_added(add, configured, class_map)


def _split_list(keep_split: str | Path | None, incorrect: str) -> str | None:
    """The split list to keep, checked before hours of reading: the shipped model's by default."""
    if keep_split is None or str(keep_split) == "none":
        return None
    if str(keep_split) == SHIPPED_SPLIT:
        default = SPLIT_LISTS["three classes" if incorrect == "class" else "two classes"]
        return str(default) if default.is_file() else None
    read_split_list(Path(keep_split))  # a one-line error now, not after the merge
    return str(keep_split)


def _check_outputs(out: Path, data: Path, cache: Path, sources: str | Path | None, exist_ok: bool) -> None:
    """`out` may be made (or replaced: with `exist_ok`, one this project made) without touching an input, and
    `data` written (with `exist_ok`, a yaml of ours replaced)."""
    protected = [cache] + ([Path(sources)] if sources is not None else [])
    check_output(out, exist_ok, protected, replace=True)
    check_output_file(data, exist_ok, written_by_us, "--data")


def _publish(report: MergeReport, out: Path, data: Path, exist_ok: bool, upload_roboflow: str | None) -> None:
    """Say what the merge did, point `data` at `out`, and send it to Roboflow if asked."""
    report.print()
    _point_data_yaml(data, out, report, exist_ok)
    _print_summary(report, out)
    if upload_roboflow:
        upload(out, upload_roboflow)


def _point_data_yaml(data: Path, out: Path, report: MergeReport, exist_ok: bool) -> None:
    """Make `data` name the new dataset, unless it names something else and replacing wasn't allowed."""
    names = list(next(iter(report.splits.values()))["boxes"])
    try:
        path = out.resolve().relative_to(PROJECT_ROOT).as_posix()  # relative: the project can be moved
    except ValueError:
        path = str(out.resolve())
    if not data.exists() or same_dataset(data, names, path) or exist_ok:
        data.parent.mkdir(parents=True, exist_ok=True)
        write_data_yaml(data, names, path)
        print(f"{data} -> {path}")
    else:
        print(
            f"WARNING: {data} names another dataset and was left as it is (--exist-ok replaces it if ours); "
            f"train with --data {out / 'data.yaml'}"
        )


def _print_summary(report: MergeReport, out: Path) -> None:
    for split, v in report.splits.items():
        if not v["photos"]:
            print(
                f"WARNING: the {split} split is empty: too few groups of photos for --split "
                f"{'/'.join(f'{f:g}' for f in report.options['split'])}; merge more photos or change --split"
            )
    problems = [s for s in report.skipped if s["reason"] not in POLICY_DROPS]
    for s in problems[:20]:
        print(f"skipped {s['source']}/{s['file']}: {s['reason']}" + (f" ({s['detail']})" if s["detail"] else ""))
    if len(problems) > 20:
        print(f"... and {len(problems) - 20} more, listed in {out / 'report.json'}")
    read = sum(t["read"] for t in report.images.values())
    kept = sum(t["kept"] for t in report.images.values())
    drops = {r: report.dropped(r) for r in sorted({r for t in report.images.values() for r in t["dropped"]})}
    splits = ", ".join(
        f"{s} {v['photos']}"
        + (f" (+{v['rotated']} rotated)" if v["rotated"] else "")
        + (f" (+{v['sliced']} slices)" if v.get("sliced") else "")
        for s, v in report.splits.items()
    )
    print(
        f"Kept {kept} of {read} images ({', '.join(f'{n} {r}' for r, n in drops.items()) or 'none dropped'}); "
        f"{splits}. Dataset: {out}, report: {out / 'report.json'}, {report.wall_time_s} s"
    )
    if drops.get(EMPTY_LABEL):
        print(
            f"Note: a photo whose label file is empty is dropped ({drops[EMPTY_LABEL]} here); photos checked to have "
            "no faces are kept as background images from a folder of their own, with --negatives FOLDER"
        )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sources", type=Path, help="folder holding each source's folder (e.g. ../shared/datasets)")
    src.add_argument("--download", action="store_true", help="fetch the sources (Kaggle API, Roboflow, URLs)")
    p.add_argument("--config", type=Path, default=SOURCES_CONFIG, help="sources config")
    p.add_argument("--out", type=Path, default=MERGED_DATASET, help="merged dataset folder")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset yaml to point at --out")
    p.add_argument("--cache", type=Path, default=SOURCES_CACHE, help="where --download puts the sources")
    p.add_argument("--incorrect", choices=INCORRECT_POLICIES, **flag(MergeOptions, "incorrect"))
    p.add_argument("--min-box", type=float_range(0), **flag(MergeOptions, "min_box"))
    p.add_argument("--blur-threshold", type=float_range(0), **flag(MergeOptions, "blur_threshold"))
    p.add_argument("--blur-scope", choices=BLUR_SCOPES, **flag(MergeOptions, "blur_scope"))
    p.add_argument("--dup-distance", type=int_range(0, 64), **flag(MergeOptions, "dup_distance"))
    p.add_argument("--group-distance", type=int_range(0, 64), **flag(MergeOptions, "group_distance"))
    split_text = "/".join(f"{100 * f:g}" for f in M.split)  # 85/10/5
    p.add_argument("--split", type=checked(parse_fractions), **{**flag(MergeOptions, "split"), "default": split_text})
    p.add_argument("--seed", type=int, **flag(MergeOptions, "seed"))
    p.add_argument(
        "--no-rotate",
        dest="rotate",
        action="store_false",
        help="no 90/180/270 degree training copies (made unless this is given; rotate: %(default)s)",
    )
    p.add_argument("--slices", type=image_size, metavar="SIZE", **flag(MergeOptions, "slices"))
    p.add_argument("--negatives", type=Path, **flag(MergeOptions, "negatives"))
    p.add_argument("--negatives-share", type=float_range(0, 1, hi_open=True), **flag(MergeOptions, "negatives_share"))
    p.add_argument(
        "--keep-split",
        default=SHIPPED_SPLIT,
        help=f"a splits.csv whose photos keep their split; '{SHIPPED_SPLIT}': the shipped model's; 'none': a new split",
    )
    p.add_argument("--workers", type=positive_int(), default=None, help="processes (%(default)s: all cores)")
    p.add_argument("--exist-ok", action="store_true", help="replace --out and --data if this project wrote them")
    _add_own_sets_flags(p)
    opt = p.parse_args(argv)
    if not (opt.sources or opt.download or opt.add or opt.upload_roboflow):
        p.error("give --sources DIR, --download or --add PATH (or --upload-roboflow to send --out as it is)")
    return opt


def _add_own_sets_flags(p: argparse.ArgumentParser) -> None:
    """--add, --class-map and --upload-roboflow: a user's own sets in, the merged dataset out."""
    p.add_argument(
        "--add",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="a set of your own (YOLO, VOC, COCO JSON, Label Studio, CVAT) merged beside the sources; repeatable",
    )
    p.add_argument(
        "--class-map",
        action="append",
        default=[],
        type=checked(parse_class_map),
        metavar="NAME=MEANING",
        help='what an --add set\'s class name means, e.g. face="No Mask"; repeatable',
    )
    p.add_argument(
        "--upload-roboflow",
        metavar="WORKSPACE/PROJECT",
        help="send the merged dataset (or --out as it is) to Roboflow, with ROBOFLOW_API_KEY",
    )


def main(opt: argparse.Namespace) -> None:
    run_or_fail("prepare_data.py", run, opt, interrupted="interrupted; nothing was written")


if __name__ == "__main__":
    main(parse_opt())
