"""Merge public face-mask datasets into one clean, leak-free YOLO dataset (classes 0 Mask, 1 No Mask).

The sources, their formats and class maps are declared in configs/datasets.yaml.

Usage:
    python prepare_data.py --sources ../shared/datasets             # local copies of the sources
    python prepare_data.py --download                              # fetch them (Kaggle API, ...)
    python prepare_data.py --sources DIR --incorrect no-mask       # count incorrect masks as No Mask
    python prepare_data.py --sources DIR --blur-threshold 60 --no-rotate --out datasets/plain --exist-ok
    python prepare_data.py --sources DIR --negatives photos_without_faces/ --negatives-share 0.1
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
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from facemask.classes import INCORRECT_POLICIES, class_map_of, parse_class_map
from facemask.cli import checked, fail, float_range, int_range, positive_int
from facemask.data.data_yaml import same_dataset, write_data_yaml, written_by_us
from facemask.data.download import download_sources
from facemask.data.layout import resolve_added
from facemask.data.merge import MergeOptions, merge
from facemask.data.quality import BLUR_SCOPES
from facemask.data.report import DUPLICATE, INCORRECT_MASK, MergeReport
from facemask.data.sources import SourceSpec, load_sources
from facemask.data.split import parse_fractions, read_split_list
from facemask.data.upload import check_upload, upload
from facemask.errors import FacemaskError
from facemask.owned_dirs import check_output, check_output_file
from facemask.paths import CONFIGS_DIR, DATASETS_DIR, DEFAULT_DATA, PROJECT_ROOT, SPLIT_LISTS

POLICY_DROPS = (DUPLICATE, INCORRECT_MASK)  # drops by design, not problems with the input


def run(
    sources: str | Path | None = None,
    download: bool = False,
    config: str | Path = CONFIGS_DIR / "datasets.yaml",
    out: str | Path = DATASETS_DIR / "face_masks",
    data: str | Path = DEFAULT_DATA,
    cache: str | Path = DATASETS_DIR / "sources",
    incorrect: str = "drop",
    min_box: float = 2.0,
    blur_threshold: float | None = None,
    blur_scope: str = "image",
    dup_distance: int = 4,
    group_distance: int = 8,
    split: str | Sequence[float] = "85/10/5",
    seed: int = 0,
    rotate: bool = True,
    negatives: str | Path | None = None,
    negatives_share: float = 0.1,
    keep_split: str | Path | None = "default",
    workers: int | None = None,
    exist_ok: bool = False,
    progress: bool = True,
    add: Sequence[str | Path] = (),
    class_map: dict[str, str] | Sequence[str | tuple[str, str]] = (),
    upload_roboflow: str | None = None,
) -> MergeReport | None:
    """Merge the sources (and the `add` sets) into `out`, point `data` at it, print the report; returns the
    report. `keep_split`: a splits.csv to keep, "default" for the shipped model's (when it exists), None or
    "none" for a split of the merge's own. `class_map`: meanings of the `add` sets' class names (NAME=MEANING).
    `upload_roboflow`: WORKSPACE/PROJECT to send the merged dataset to; with nothing to merge, `out` as it is
    is sent (and None returned)."""
    if sources is None and not download and not add:  # nothing to merge: --out is sent as it is
        if upload_roboflow is None:
            raise ValueError("give --sources DIR, --download or --add PATH")
        upload(Path(out), upload_roboflow)
        return None
    class_map, added = _added_sets(sources, download, add, class_map, upload_roboflow, config, out)
    keep_split = _split_list(keep_split, incorrect)
    out, data = Path(out), Path(data)
    protected = [Path(cache)] + ([Path(sources)] if sources is not None else [])
    check_output(out, exist_ok, protected, replace=True)  # before any download
    check_output_file(data, exist_ok, written_by_us, "--data")  # --exist-ok replaces only a yaml of ours
    opts = MergeOptions(incorrect=incorrect, min_box=min_box, blur_threshold=blur_threshold, blur_scope=blur_scope,
                        dup_distance=dup_distance, group_distance=group_distance, split=parse_fractions(split),
                        seed=seed, rotate=rotate, negatives=str(negatives) if negatives else None,
                        negatives_share=negatives_share, keep_split=keep_split, workers=workers or os.cpu_count() or 1,
                        class_map=class_map, added=[str(a) for a in add])  # fmt: skip
    if download:
        sources = download_sources(load_sources(config), Path(cache))
    report = merge(Path(sources) if sources is not None else None, out, Path(config), opts, exist_ok=exist_ok,
                   progress=progress, protected=[cache], added=added)  # fmt: skip
    report.print()
    _point_data_yaml(data, out, report, exist_ok)
    _print_summary(report, out)
    if upload_roboflow:
        upload(out, upload_roboflow)
    return report


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
    if str(keep_split) == "default":
        default = SPLIT_LISTS["three classes" if incorrect == "class" else "two classes"]
        return str(default) if default.is_file() else None
    read_split_list(Path(keep_split))  # a one-line error now, not after the merge
    return str(keep_split)


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
        f"{s} {v['photos']}" + (f" (+{v['rotated']} rotated)" if v["rotated"] else "") for s, v in report.splits.items()
    )
    print(
        f"Kept {kept} of {read} images ({', '.join(f'{n} {r}' for r, n in drops.items()) or 'none dropped'}); "
        f"{splits}. Dataset: {out}, report: {out / 'report.json'}, {report.wall_time_s} s"
    )


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sources", type=Path, help="folder holding each source's folder (e.g. ../shared/datasets)")
    src.add_argument("--download", action="store_true", help="fetch the sources (Kaggle API, Roboflow, URLs)")
    p.add_argument("--config", type=Path, default=CONFIGS_DIR / "datasets.yaml", help="sources config")
    p.add_argument("--out", type=Path, default=DATASETS_DIR / "face_masks", help="merged dataset folder")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset yaml to point at --out")
    p.add_argument("--cache", type=Path, default=DATASETS_DIR / "sources", help="where --download puts the sources")
    p.add_argument(
        "--incorrect",
        choices=INCORRECT_POLICIES,
        default="drop",
        help="images with incorrectly worn masks: drop them, count as No Mask, or keep class 2",
    )
    p.add_argument("--min-box", type=float_range(0), default=2.0, help="drop boxes narrower or shorter (pixels)")
    p.add_argument(
        "--blur-threshold",
        type=float_range(0),
        default=None,
        help="drop images whose variance of the Laplacian is below this (off by default; try 50-100)",
    )
    p.add_argument("--blur-scope", choices=BLUR_SCOPES, default="image", help="measure blur on the image or its faces")
    p.add_argument("--dup-distance", type=int_range(0, 64), default=4, help="pHash bits: at most this = duplicates")
    p.add_argument(
        "--group-distance", type=int_range(0, 64), default=8, help="pHash bits: at most this = one split (and copies)"
    )
    p.add_argument("--split", type=checked(parse_fractions), default="85/10/5", help="train/val/test proportions")
    p.add_argument("--seed", type=int, default=0, help="seed of the split")
    p.add_argument("--no-rotate", dest="rotate", action="store_false", help="no 90/180/270 degree training copies")
    p.add_argument("--negatives", type=Path, help="folder of photos without faces, kept as background images")
    p.add_argument(
        "--negatives-share", type=float_range(0, 1, hi_open=True), default=0.1, help="at most this share are negatives"
    )
    p.add_argument(
        "--keep-split",
        default="default",
        help="a splits.csv whose photos keep their split; 'default': the shipped model's; 'none': a new split",
    )
    p.add_argument("--workers", type=positive_int(), default=None, help="processes (default: all cores)")
    p.add_argument("--exist-ok", action="store_true", help="replace --out and --data if this project wrote them")
    p.add_argument("--add", action="append", default=[], type=Path, metavar="PATH",
                   help="a set of your own (YOLO, VOC, COCO JSON, Label Studio, CVAT) merged beside the sources; "
                   "repeatable")  # fmt: skip
    p.add_argument("--class-map", action="append", default=[], type=checked(parse_class_map), metavar="NAME=MEANING",
                   help='what an --add set\'s class name means, e.g. face="No Mask"; repeatable')  # fmt: skip
    p.add_argument("--upload-roboflow", metavar="WORKSPACE/PROJECT",
                   help="send the merged dataset (or --out as it is) to Roboflow, with ROBOFLOW_API_KEY")  # fmt: skip
    opt = p.parse_args(argv)
    if not (opt.sources or opt.download or opt.add or opt.upload_roboflow):
        p.error("give --sources DIR, --download or --add PATH (or --upload-roboflow to send --out as it is)")
    return opt


def main(opt: argparse.Namespace) -> None:
    try:
        run(**vars(opt))
    except FacemaskError as e:
        fail("prepare_data.py", e)
    except KeyboardInterrupt:
        sys.exit("prepare_data.py: interrupted; nothing was written")


if __name__ == "__main__":
    main(parse_opt())
