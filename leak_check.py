"""Check that no val/test photo of a merged dataset has a near-copy in its train split: a data gate, found
independently of the merge (facemask/data/leak_check.py says how).

Candidates, --k per val/test photo, come in turn from SIFT descriptor votes and a CNN embedding (the
COCO-pretrained YOLOv5n backbone of ../shared/weights, or --weights); each is verified by SIFT keypoints
under one plausible homography: a copy when at least --min-inliers match and they reach across the photo
(--min-spread; a shared watermark or logo matches in one strip). The merge's turned copies (*_rot90, ...)
are skipped: their original is in train anyway.

Every run calibrates itself and prints the figures: inliers of --random-pairs random pairs of different
photos (where false alarms live), the inlier histogram of all candidate pairs (look-alikes among them),
and, for --synthetic val/test photos, an augmented copy made on the fly (turned, skewed, cropped,
stretched, perhaps mirrored, darkened, re-encoded): its rank in each candidate list and its inliers, i.e.
the check's recall end to end. --save writes contact sheets of the matches (the strongest and the
weakest), of the pairs rejected for their spread, of the best candidates that are not copies and of
synthetic copies, and matches.csv (every verified pair).

Exit status 1 when a split's share of photos with a near-copy in train is above --max-share (2 for a
user's error). On 2,512 train and 442 val/test photos it takes about 8 minutes on two (busy) CPU cores
and 2.3 GB of memory; most of it is SIFT on every photo and the 10,000 pairs verified.

Usage:
    python leak_check.py                                                  # datasets/face_masks_upright
    python leak_check.py --data datasets/face_masks --splits val test --k 20 --min-inliers 20 --workers 2 \\
        --save runs/leak_check

Python:
    from leak_check import run
    result = run(data="datasets/face_masks_upright", splits=("test",))
    result.shares()["test"], [result.compared.query_id[f.query] for f in result.leaks]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from facemask.cli import int_range, positive_int, run_or_fail, script_parser, unit_float
from facemask.data.leak_check import DEFAULT_DATA, check
from facemask.data.leak_check_options import LeakOptions
from facemask.data.leak_check_report import print_report
from facemask.data.leak_check_result import LeakResult
from facemask.data.leak_check_sheets import save as save_sheets
from facemask.owned_dirs import check_output, mark

DEFAULTS = LeakOptions()
SHEET_ROWS = 36


def run(
    data: str | Path = DEFAULT_DATA,
    save: str | Path | None = None,
    sheet_rows: int = SHEET_ROWS,
    exist_ok: bool = False,
    **options: Any,
) -> LeakResult:
    """Check the dataset at `data` (a merged dataset's root: images/train, images/val, ...), print the
    figures and, with `save`, write matches.csv and the contact sheets there (at most `sheet_rows` matches;
    `exist_ok`: into a folder this project made). `options` are LeakOptions' fields: splits (val, test),
    k (20), min_inliers (20), min_spread (0.2), max_share (0.02), random_pairs (2000), synthetic (100),
    weights (the backbone), workers (2), seed (0). Returns the LeakResult (`.failed`: a share above max_share)."""
    start = time.perf_counter()
    if save is not None:  # checked before the minutes of work
        check_output(Path(save), exist_ok, protected=[Path(data)], flag="--save")
    splits = [s for item in options.pop("splits", DEFAULTS.splits) for s in str(item).split(",") if s.strip()]
    result = check(Path(data), LeakOptions(splits=tuple(splits), **options))
    print_report(result)
    if save is not None:
        sheets = save_sheets(result, mark(Path(save), "leak_check"), sheet_rows)
        print(f"\nContact sheets: {', '.join(str(s) for s in sheets)}\nAll pairs: {Path(save) / 'matches.csv'}")
    result.times["total"] = time.perf_counter() - start
    times = ", ".join(f"{name} {sec:.0f} s" for name, sec in result.times.items())
    print(f"Time: {times}; {result.options.workers} workers")
    return result


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    d = DEFAULTS
    p = script_parser(__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a merged dataset's root (images/<split>/)")
    p.add_argument("--splits", nargs="+", default=list(d.splits), help="splits checked against train (or val,test)")
    p.add_argument("--k", type=positive_int(), default=d.k, help="train candidates verified per query")
    p.add_argument("--min-inliers", type=positive_int(), default=d.min_inliers, help="homography inliers of a copy")
    p.add_argument("--min-spread", type=unit_float, default=d.min_spread, help="how far a copy's inliers reach")
    p.add_argument("--max-share", type=unit_float, default=d.max_share, help="exit 1 when a split's leaks are above")
    p.add_argument("--random-pairs", type=int_range(0), default=d.random_pairs, help="random pairs for calibration")
    p.add_argument("--synthetic", type=int_range(0), default=d.synthetic, help="synthetic copies for calibration")
    p.add_argument("--weights", type=Path, default=d.weights, help="ultralytics YOLOv5 for the embedding")
    p.add_argument("--save", type=Path, help="folder for contact sheets and matches.csv")
    p.add_argument("--sheet-rows", type=positive_int(), default=SHEET_ROWS, help="matches shown on the sheets")
    p.add_argument("--exist-ok", action="store_true", help="write into a --save folder this project made")
    p.add_argument("--workers", type=positive_int(), default=d.workers)
    p.add_argument("--seed", type=int, default=d.seed)
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> int:
    return 1 if run_or_fail("leak_check.py", run, opt).failed else 0


if __name__ == "__main__":
    sys.exit(main(parse_opt()))
