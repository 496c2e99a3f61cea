"""Audit a dataset's labels with a model: faces without a box, boxes of the wrong class, stray boxes.

Writes to runs/audit/exp*: candidates.csv (image,kind,cls,conf,cx,cy,w,h,source; box normalised), a review
gallery (gallery/index.html, pages of crops boxed by kind, and gallery/overview.png) and summary.json
(candidates per source, also printed as a table).
    missing      a confident detection that no label box overlaps (IoU < 0.3 with every box)
    wrong_class  a label box the model confidently calls another class (IoU >= 0.5), never its own
    unfound      a label box no detection overlaps (IoU >= 0.3) even at confidence 0.05
--second-opinion mtcnn adds, as `missing` candidates of source mtcnn, the faces that MTCNN (a face finder
independent of the model) finds at 0.98 and that no label box and no missing candidate of the model
overlaps (facemask/audit/second_opinion.py): the model has learned to ignore the faces its labels skip.
An image whose label has a bad line (NaN or inf, a coordinate outside 0-1, a class the yaml lacks) is
skipped whole, as ultralytics leaves it out of training, with one warning naming the file and line; the
summary counts what was skipped (summary.json lists each).

Usage:
    python audit_labels.py --data data/face_masks.yaml --weights weights/face_masks.pt    # train, val, test
    python audit_labels.py --split test --conf-thres 0.6 --imgsz 416
    python audit_labels.py --split train --folds 5 --fold-epochs 3 --device 0   # photos the model trained on
    python audit_labels.py --split train --second-opinion mtcnn                 # + faces MTCNN finds
    python audit_labels.py --apply missing=add --out datasets/face_masks_fixed        # + a corrected copy
    python audit_labels.py --apply missing=ignore --out datasets/face_masks_greyed    # grey out missing faces
    python audit_labels.py --review runs/audit/exp          # accept or reject each candidate in the browser
    python audit_labels.py --review runs/audit/exp --apply missing=add --out datasets/face_masks_reviewed

--apply changes training images only (val and test labels stay as they are) and never the input:
missing=add adds the missing faces as boxes of the predicted class, missing=ignore fills them with
grey (114, the letterbox padding) so training stops learning them as background, missing=none copies
unchanged (hard links).

--review RUN serves RUN's gallery on http://127.0.0.1 (--port) with accept and reject buttons on every
candidate; each click is saved at once in RUN/gallery/review.json (facemask/audit/review.py says why a
server). --review RUN --apply applies RUN's candidates without auditing again: when review.json exists,
the accepted ones only (an accepted missing face as --apply says, an accepted wrong_class box takes the
model's class, an accepted unfound box is deleted) with a tally of accepted, rejected and undecided;
without it, every missing one, as --apply alone does.

Python:
    from audit_labels import run
    result = run(data="data/face_masks.yaml", split=["test"])
    result.summary["total"]["missing"]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from facemask.audit import candidates as audit
from facemask.audit.apply import APPLY_MODES, parse_apply, write_corrected
from facemask.audit.candidates import SecondOpinion
from facemask.audit.copies import rotated_copies
from facemask.audit.folds import fold_detectors, start_point
from facemask.audit.gallery import write_gallery
from facemask.audit.options import AuditOptions
from facemask.audit.review import apply_review, serve_review
from facemask.audit.second_opinion import SECOND_OPINIONS, face_finder
from facemask.cli import add_flags, fail, int_range, positive_int, script_parser, unit_float
from facemask.data.dataset_files import known_sources, load_dataset, split_images
from facemask.data.split import SPLITS
from facemask.errors import FacemaskError
from facemask.inference.detect_options import DetectOptions
from facemask.inference.detector import Detector, DetectorSettings
from facemask.owned_dirs import check_output, run_dir


def run(**kwargs: Any) -> audit.AuditResult:
    """Audit the splits, write candidates.csv, the gallery and summary.json, and with `apply` the
    corrected copy at `out`; returns the run's folder, candidates and summary. With `review` (an audit
    run's folder), no audit: serve its gallery for review on `port` (0: a free one) until Ctrl-C, or
    with `apply` write the copy from its candidates (the accepted ones, once reviewed). `second_opinion`
    ("mtcnn"): a face finder whose faces the labels and the model miss are missing candidates too.
    Keyword arguments: the fields of facemask.audit.options.AuditOptions (the long flag names), each
    documented there with its default."""
    o = AuditOptions(**kwargs)
    mode = parse_apply(o.apply) if o.apply else None
    if o.review:
        return _reviewed(o, mode)
    root, content = load_dataset(o.data)
    splits = audit.audited_splits(content, o.split)
    if mode:  # checked before any inference, so a bad --out costs nothing
        if "train" not in splits or o.out is None:
            raise audit.AuditError("--apply changes training images: audit the train split, and give --out")
        check_output(Path(o.out), o.exist_ok, [root], replace=True)
    images = [p for s in splits for p in split_images(root, content, s)]
    copies = rotated_copies(images)  # judged through their photos: a quarter of the work, and no fold leak
    images = [p for p in images if p not in copies]
    if copies:
        print(
            f"{len(copies)} rotated copies are audited through their photos (what --apply changes, it turns onto them)"
        )
    settings = audit.detector_settings(o.imgsz, o.conf_thres, o.iou_thres, o.device)
    detector = Detector(o.weights, settings)
    print(f"Auditing with {o.weights} at {detector.size_note}")
    second = face_finder(o.second_opinion, detector.names, o.device)
    train_args = audit.checkpoint_train_args(detector)
    seen = _seen(images, train_args, o.weights, bool(o.folds))
    save_dir = run_dir(o.project, o.name, o.exist_ok, kind="audit", protected=[root, o.weights])
    save_dir.mkdir(parents=True, exist_ok=True)
    held = set(seen) if o.folds else set()
    auditors = [(detector, [p for p in images if p not in held])]
    if held:
        auditors += _fold_auditors(o, sorted(held), train_args, content["names"], settings, save_dir / "folds")
    audits = _audited(auditors, images, root, o.conf_thres, audit.class_ids(content), second)
    candidates = [c for a in audits for c in a.candidates]
    summary = {
        **_run_summary(o, splits, detector.input_size.imgsz, len(seen), len(held)),
        **_write_candidates(candidates, audits, root, detector.names, save_dir),
    }
    if mode:
        missing = [c for c in candidates if c.kind == "missing"]  # unreviewed: only the faces to add or grey
        summary["apply"] = write_corrected(root, content, missing, mode, Path(o.out), o.exist_ok)
    (save_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _print_report(o, summary, len(images), candidates, save_dir)
    return audit.AuditResult(save_dir, candidates, summary)


def _reviewed(o: AuditOptions, mode: str | None) -> audit.AuditResult:
    """--review: serve the run's gallery for review, or with --apply apply what was accepted there."""
    if mode is None:
        done = serve_review(o.review, o.port)
        return audit.AuditResult(done.folder, done.candidates, {"review": done.tally()})
    result = apply_review(o.review, mode, o.out, o.exist_ok)
    _print_applied(result.summary["apply"])
    return result


def _fold_auditors(
    o: AuditOptions, held: list[Path], train_args: dict, names: Any, settings: DetectorSettings, folder: Path
) -> list[tuple[Detector, list[Path]]]:
    """--folds: fold models for the photos the model trained on, each with the photos it audits."""
    start = start_point(train_args, o.fold_weights)
    return fold_detectors(held, o.folds, start, names, settings, folder, o.fold_epochs, o.fold_batch, o.fold_config)


def _audited(
    auditors: list[tuple[Detector, list[Path]]],
    images: list[Path],
    root: Path,
    conf_thres: float,
    classes: list[str],
    second: SecondOpinion | None,
) -> list[audit.ImageAudit]:
    """Each detector over its photos, the audits back in the order of `images`."""
    order = {p.relative_to(root).as_posix(): i for i, p in enumerate(images)}
    audits = (
        a for det, group in auditors for a in audit.audit_images(det, group, root, conf_thres, classes, second=second)
    )
    return sorted(audits, key=lambda a: order[a.image])


def _run_summary(o: AuditOptions, splits: list[str], imgsz: int, seen: int, held: int) -> dict[str, Any]:
    """summary.json's head: what was audited, by what, and how many photos the model had seen."""
    return {
        "weights": str(o.weights),
        "data": str(o.data),
        "splits": splits,
        "imgsz": imgsz,
        "conf_thres": o.conf_thres,
        "second_opinion": o.second_opinion,
        "seen_in_training": seen,
        "folds": o.folds or None,
        "audited_by_fold_models": held,
    }


def _write_candidates(
    candidates: list[audit.Candidate], audits: list[audit.ImageAudit], root: Path, names: dict[int, str], save_dir: Path
) -> dict[str, Any]:
    """candidates.csv and the gallery; returns summary.json's counts per source and of skipped images."""
    audit.write_csv(candidates, save_dir / "candidates.csv")
    write_gallery(candidates, root, names, save_dir / "gallery")
    skipped, skipped_images = audit.report_skipped(audits, root)
    return {
        "sources": audit.summarise(audits, known_sources(root)),
        "skipped": skipped,
        "skipped_images": skipped_images,
    }


def _print_report(
    o: AuditOptions, summary: dict[str, Any], images: int, candidates: list[audit.Candidate], save_dir: Path
) -> None:
    """The table per source and what else the run did, as the run's last lines."""
    audit.print_summary(summary["sources"], f"Label audit of {o.data} ({', '.join(summary['splits'])}) by {o.weights}")
    if o.second_opinion:  # its candidates' source is its name
        own = sum(c.source == o.second_opinion for c in candidates)
        print(f"{own} of the missing candidates are {o.second_opinion}'s")
    if summary["skipped"]:
        print(
            f"Skipped {len(summary['skipped_images'])} of {images} images, named above and in summary.json: "
            f"{', '.join(f'{n} {why}' for why, n in summary['skipped'].items())}"
        )
    if "apply" in summary:
        _print_applied(summary["apply"])
    print(f"Candidates, gallery ({save_dir / 'gallery' / 'index.html'}) and summary saved to {save_dir}")


def _print_applied(a: dict) -> None:
    fixed = f", {a['relabelled']} boxes relabelled, {a['removed']} removed" if a["relabelled"] or a["removed"] else ""
    photos, copies = a["photos_changed"], a["images_changed"] - a["photos_changed"]
    their = f"{photos} photo and {copies} of its" if photos == 1 else f"{photos} photos and {copies} of their"
    which = f": {their} rotated copies" if copies else ""
    print(
        f"Corrected copy (missing={a['mode']}: {a['boxes']} faces{fixed} in {a['images_changed']} training "
        f"images{which}; val and test unchanged): {a['data']}"
    )


def _seen(images: list[Path], train_args: dict, weights: str | Path, folds: bool) -> list[Path]:
    """The audited photos the model was trained on, with the warning or note that goes with them;
    when that cannot be told, all of them count as seen for --folds."""
    trained = audit.training_names(train_args)
    if trained is None:
        why = (
            f"its training data {train_args['data']} is not on this machine"
            if train_args.get("data")
            else ("it records no training data (an export?)")
        )
        print(f"NOTE: cannot tell whether {weights} was trained on these photos: {why}", file=sys.stderr)
        return list(images) if folds else []
    seen = [p for p in images if p.name in trained]
    if folds and not seen:
        print(f"NOTE: {weights} was not trained on these photos; --folds is not needed, none are folded")
    if seen and not folds:
        print(audit.bias_warning(weights, len(seen), len(images), train_args["data"]), file=sys.stderr)
    return seen


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    p.add_argument("--weights", type=Path, help="model (.pt or an export)")
    p.add_argument("--data", type=Path, help="dataset yaml")
    p.add_argument("--split", nargs="+", choices=SPLITS, help="splits to audit (default: all the yaml has)")
    add_flags(p, DetectOptions, ("imgsz",))  # --imgsz, --img, --img-size, as detect.py's
    p.add_argument("--conf-thres", type=unit_float, help="confidence of a 'confident' detection")
    p.add_argument("--iou-thres", type=unit_float, help="NMS IoU threshold")
    p.add_argument("--device", help="cpu, 0, ...")
    p.add_argument("--project", type=Path, help="save to project/name")
    p.add_argument("--name", help="save to project/name")
    p.add_argument("--exist-ok", action="store_true", help="reuse project/name (and replace --out if ours)")
    p.add_argument("--apply", help=f"write a corrected copy: missing={'|'.join(APPLY_MODES)} (needs --out)")
    p.add_argument("--out", type=Path, help="folder of the corrected copy (a new one, or one this project made)")
    p.add_argument(
        "--review",
        type=Path,
        help="an audit run (runs/audit/exp): review its gallery in the browser, "
        "or with --apply apply its accepted candidates",
    )
    p.add_argument("--port", type=int_range(0, 65535), help="port of --review on 127.0.0.1 (0: a free one)")
    p.add_argument("--folds", type=int_range(2, also=(0,)), help="audit photos the model trained on with K fold models")
    p.add_argument("--fold-epochs", type=positive_int(), help="epochs of each fold model")
    p.add_argument("--fold-weights", help="what fold models start from (default: what the model started from)")
    p.add_argument("--fold-batch", type=positive_int(), help="batch size of fold training")
    p.add_argument("--fold-config", type=Path, help="training config of fold models")
    p.add_argument(
        "--second-opinion",
        choices=SECOND_OPINIONS,
        help="also take as missing the unlabelled faces this face finder sees and the model does not",
    )
    p.set_defaults(**asdict(AuditOptions()))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    try:
        run(**vars(opt))
    except FacemaskError as e:
        fail("audit_labels.py", e)


if __name__ == "__main__":
    main(parse_opt())
