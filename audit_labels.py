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
from pathlib import Path

from facemask.audit import candidates as audit
from facemask.audit.apply import APPLY_MODES, parse_apply, write_corrected
from facemask.audit.folds import fold_detectors, start_point
from facemask.audit.gallery import write_gallery
from facemask.audit.review import apply_review, serve_review
from facemask.audit.second_opinion import SECOND_OPINIONS, face_finder
from facemask.cli import fail, image_size, int_range, positive_int, unit_float
from facemask.data.dataset_files import known_sources, load_dataset, split_images
from facemask.data.split import SPLITS
from facemask.errors import FacemaskError
from facemask.inference.detector import Detector
from facemask.model.checkpoints import run_dir
from facemask.model.training import DEFAULT_CONFIG
from facemask.owned_dirs import check_output
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS, RUNS_DIR


def run(
    weights: str | Path = DEFAULT_WEIGHTS,
    data: str | Path = DEFAULT_DATA,
    split: list[str] | None = None,
    imgsz: int | None = None,
    conf_thres: float = 0.5,
    iou_thres: float = 0.45,
    device: str | None = None,
    project: str | Path = RUNS_DIR / "audit",
    name: str = "exp",
    exist_ok: bool = False,
    apply: str | None = None,
    out: str | Path | None = None,
    folds: int = 0,
    fold_epochs: int = 3,
    fold_weights: str | Path | None = None,
    fold_batch: int = 16,
    fold_config: str | Path = DEFAULT_CONFIG,
    review: str | Path | None = None,
    port: int = 0,
    second_opinion: str | None = None,
) -> audit.AuditResult:
    """Audit the splits, write candidates.csv, the gallery and summary.json, and with `apply` the
    corrected copy at `out`; returns the run's folder, candidates and summary. With `review` (an audit
    run's folder), no audit: serve its gallery for review on `port` (0: a free one) until Ctrl-C, or
    with `apply` write the copy from its candidates (the accepted ones, once reviewed). `second_opinion`
    ("mtcnn"): a face finder whose faces the labels and the model miss are missing candidates too."""
    mode = parse_apply(apply) if apply else None
    if review:
        return _reviewed(review, mode, out, exist_ok, port)
    root, content = load_dataset(data)
    splits = audit.audited_splits(content, split)
    if mode:  # checked before any inference, so a bad --out costs nothing
        if "train" not in splits or out is None:
            raise audit.AuditError("--apply changes training images: audit the train split, and give --out")
        check_output(Path(out), exist_ok, [root], replace=True)
    images = [p for s in splits for p in split_images(root, content, s)]
    settings = audit.detector_settings(imgsz, conf_thres, iou_thres, device)
    detector = Detector(weights, settings)
    print(f"Auditing with {weights} at {detector.size_note}")
    second = face_finder(second_opinion, detector.names, device)
    train_args = audit.checkpoint_train_args(detector)
    seen = _seen(images, train_args, weights, bool(folds))
    save_dir = run_dir(project, name, exist_ok, kind="audit", protected=[root, weights])
    save_dir.mkdir(parents=True, exist_ok=True)

    held = set(seen) if folds else set()
    groups = [(detector, [p for p in images if p not in held])]
    if held:
        start = start_point(train_args, fold_weights)
        groups += fold_detectors(
            sorted(held),
            folds,
            start,
            content["names"],
            settings,
            save_dir / "folds",
            fold_epochs,
            fold_batch,
            fold_config,
        )
    order = {p.relative_to(root).as_posix(): i for i, p in enumerate(images)}
    classes = audit.class_ids(content)
    audits = sorted(
        (a for det, group in groups for a in audit.audit_images(det, group, root, conf_thres, classes, second=second)),
        key=lambda a: order[a.image],
    )
    skipped, skipped_images = audit.report_skipped(audits, root)
    candidates = [c for a in audits for c in a.candidates]
    audit.write_csv(candidates, save_dir / "candidates.csv")
    gallery = write_gallery(candidates, root, detector.names, save_dir / "gallery")
    per_source = audit.summarise(audits, known_sources(root))
    summary = {
        "weights": str(weights),
        "data": str(data),
        "splits": splits,
        "imgsz": detector.input_size.imgsz,
        "conf_thres": conf_thres,
        "second_opinion": second_opinion,
        "seen_in_training": len(seen),
        "folds": folds or None,
        "audited_by_fold_models": len(held),
        "sources": per_source,
        "skipped": skipped,
        "skipped_images": skipped_images,
    }
    if mode:
        missing = [c for c in candidates if c.kind == "missing"]  # unreviewed: only the faces to add or grey
        summary["apply"] = write_corrected(root, content, missing, mode, Path(out), exist_ok)
    (save_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    audit.print_summary(per_source, f"Label audit of {data} ({', '.join(splits)}) by {weights}")
    if second:
        print(f"{sum(c.source == second.name for c in candidates)} of the missing candidates are {second.name}'s")
    if skipped:
        print(
            f"Skipped {len(skipped_images)} of {len(images)} images, named above and in summary.json: "
            f"{', '.join(f'{n} {why}' for why, n in skipped.items())}"
        )
    if mode:
        _print_applied(summary["apply"])
    print(f"Candidates, gallery ({gallery}) and summary saved to {save_dir}")
    return audit.AuditResult(save_dir, candidates, summary)


def _reviewed(
    review: str | Path, mode: str | None, out: str | Path | None, exist_ok: bool, port: int
) -> audit.AuditResult:
    """--review: serve the run's gallery for review, or with --apply apply what was accepted there."""
    if mode is None:
        done = serve_review(review, port)
        return audit.AuditResult(done.folder, done.candidates, {"review": done.tally()})
    result = apply_review(review, mode, out, exist_ok)
    _print_applied(result.summary["apply"])
    return result


def _print_applied(a: dict) -> None:
    fixed = f", {a['relabelled']} boxes relabelled, {a['removed']} removed" if a["relabelled"] or a["removed"] else ""
    print(
        f"Corrected copy (missing={a['mode']}: {a['boxes']} faces{fixed} in {a['images_changed']} training "
        f"images; val and test unchanged): {a['data']}"
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
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="model (.pt or an export)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset yaml")
    p.add_argument("--split", nargs="+", choices=SPLITS, help="splits to audit (default: all the yaml has)")
    p.add_argument(
        "--imgsz",
        "--img",
        "--img-size",
        dest="imgsz",
        type=image_size,
        default=None,
        help="inference size (default: the size the model was trained at)",
    )
    p.add_argument("--conf-thres", type=unit_float, default=0.5, help="confidence of a 'confident' detection")
    p.add_argument("--iou-thres", type=unit_float, default=0.45, help="NMS IoU threshold")
    p.add_argument("--device", help="cpu, 0, ...")
    p.add_argument("--project", default=str(RUNS_DIR / "audit"), help="save to project/name")
    p.add_argument("--name", default="exp", help="save to project/name")
    p.add_argument("--exist-ok", action="store_true", help="reuse project/name (and replace --out if ours)")
    p.add_argument("--apply", help=f"write a corrected copy: missing={'|'.join(APPLY_MODES)} (needs --out)")
    p.add_argument("--out", type=Path, help="folder of the corrected copy (a new one, or one this project made)")
    p.add_argument(
        "--review",
        type=Path,
        help="an audit run (runs/audit/exp): review its gallery in the browser, "
        "or with --apply apply its accepted candidates",
    )
    p.add_argument("--port", type=int_range(0, 65535), default=0, help="port of --review on 127.0.0.1 (0: a free one)")
    p.add_argument(
        "--folds", type=int_range(2, also=(0,)), default=0, help="audit photos the model trained on with K fold models"
    )
    p.add_argument("--fold-epochs", type=positive_int(), default=3, help="epochs of each fold model")
    p.add_argument("--fold-weights", help="what fold models start from (default: what the model started from)")
    p.add_argument("--fold-batch", type=positive_int(), default=16, help="batch size of fold training")
    p.add_argument("--fold-config", type=Path, default=DEFAULT_CONFIG, help="training config of fold models")
    p.add_argument(
        "--second-opinion",
        choices=SECOND_OPINIONS,
        help="also take as missing the unlabelled faces this face finder sees and the model does not",
    )
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    try:
        run(**vars(opt))
    except FacemaskError as e:
        fail("audit_labels.py", e)


if __name__ == "__main__":
    main(parse_opt())
