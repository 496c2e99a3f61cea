"""How well the label audit finds faces a labeller skipped: a benchmark, not a test.

Copies a split (or its crowd photos: --min-faces) with a share of its label boxes deleted at random
(images hard-linked, not copied), audits the copy with audit_labels.py and counts the deleted boxes that
a `missing` candidate recovers (IoU >= 0.5, any class), also per source of candidate (the model, or a
--second-opinion). The goal (issue 23): at least 70% of the deleted faces found, with at most 2
candidates per deleted box. Precision is that of the missing candidates against the full original labels.

Usage:
    python -m benchmarks.audit_recall --weights weights/face_masks.pt --data data/face_masks_upright.yaml
    python -m benchmarks.audit_recall --split val --delete 0.5 --seed 1 --conf-thres 0.4 --imgsz 416
    python -m benchmarks.audit_recall --data data/face_masks_crowd.yaml --min-faces 5 --second-opinion mtcnn
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from ultralytics.data.utils import img2label_paths

import audit_labels
from benchmarks import defaults
from facemask.audit.apply import link_or_copy
from facemask.audit.candidates import Candidate, iou
from facemask.audit.second_opinion import SECOND_OPINIONS
from facemask.cli import image_size, run_or_fail, unit_float
from facemask.data.dataset_files import load_dataset, load_labels, split_images
from facemask.errors import FacemaskError
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS

GOAL_RECALL, GOAL_CANDIDATES = 0.7, 2.0
MATCH_IOU = 0.5


def label_lines(image: Path) -> list[str]:
    """The image's YOLO label lines as written (blank ones left out, as the label reader does)."""
    path = Path(img2label_paths([str(image)])[0])
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()] if path.is_file() else []


def boxes(image: Path) -> np.ndarray:
    """The image's label boxes, normalised x1, y1, x2, y2 in label-file order (IoU does not change with scale)."""
    return load_labels(image, 1, 1).xyxy.reshape(-1, 4)


def copy_with_deletions(
    root: Path, content: dict[str, Any], split: str, dest: Path, share: float, seed: int, min_faces: int = 0
) -> dict[str, np.ndarray]:
    """dest/images/<split> (links) and dest/labels/<split> of the split's photos with at least `min_faces`
    boxes, `share` of all their boxes deleted at random; returns the deleted boxes per image (relative
    path in the copy)."""
    lines = {image: label_lines(image) for image in split_images(root, content, split)}
    lines = {image: ls for image, ls in lines.items() if len(ls) >= min_faces}
    if not lines:
        raise FacemaskError(f"no {split} photo of {root} has {min_faces} or more label boxes")
    every = [(image, i) for image, ls in lines.items() for i in range(len(ls))]
    gone = set(random.Random(seed).sample(every, round(share * len(every))))
    deleted: dict[str, np.ndarray] = {}
    (dest / "labels" / split).mkdir(parents=True, exist_ok=True)
    for image, ls in lines.items():
        rel = Path("images", split, image.name)
        link_or_copy(image, dest / rel)
        kept = [ln for i, ln in enumerate(ls) if (image, i) not in gone]
        (dest / "labels" / split / f"{image.stem}.txt").write_text("".join(f"{ln}\n" for ln in kept))
        deleted[rel.as_posix()] = boxes(image)[[i for i in range(len(ls)) if (image, i) in gone]]
    (dest / "data.yaml").write_text(yaml.safe_dump({split: f"images/{split}", "names": content["names"]}))
    return deleted


def boxes_by_image(candidates: list[Candidate]) -> dict[str, np.ndarray]:
    """The candidates' boxes (normalised x1, y1, x2, y2) per image."""
    found: dict[str, list[np.ndarray]] = {}
    for c in candidates:
        found.setdefault(c.image, []).append(c.xyxy(1, 1))
    return {image: np.array(b) for image, b in found.items()}


def recovered(found: dict[str, np.ndarray], deleted: dict[str, np.ndarray]) -> int:
    """Deleted boxes that a found box matches (IoU >= MATCH_IOU)."""
    return sum(
        int((iou(gone, found[image]) >= MATCH_IOU).any(axis=1).sum())
        for image, gone in deleted.items()
        if image in found
    )


def score(
    candidates: list[Candidate], deleted: dict[str, np.ndarray], originals: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Deleted boxes recovered by a missing candidate, and by each source's candidates alone (how many,
    how many recovered), and the missing candidates that are real faces."""
    missing = [c for c in candidates if c.kind == "missing"]
    found = boxes_by_image(missing)
    true = sum(int((iou(originals[image], mine) >= MATCH_IOU).any(axis=0).sum()) for image, mine in found.items())
    n_deleted, n_missing, n_recovered = sum(map(len, deleted.values())), len(missing), recovered(found, deleted)
    by_source = {s: [c for c in missing if c.source == s] for s in sorted({c.source for c in missing})}
    return {
        "photos": len(deleted),
        "deleted": n_deleted,
        "recovered": n_recovered,
        "recall": n_recovered / max(n_deleted, 1),
        "missing_candidates": n_missing,
        "candidates_per_deleted": n_missing / max(n_deleted, 1),
        "candidates_per_photo": n_missing / max(len(deleted), 1),
        "precision": true / max(n_missing, 1),
        "by_source": {
            s: {"candidates": len(mine), "recovered": recovered(boxes_by_image(mine), deleted)}
            for s, mine in by_source.items()
        },
    }


def run(
    weights: Path = DEFAULT_WEIGHTS,
    data: Path = DEFAULT_DATA,
    split: str = "test",
    delete: float = 0.33,
    seed: int = 0,
    imgsz: int | None = None,
    conf_thres: float = 0.5,
    device: str | None = None,
    min_faces: int = 0,
    second_opinion: str | None = None,
) -> dict[str, Any]:
    """Delete a `delete` share of the boxes (`seed`) of the `split`'s photos with `min_faces` or more
    boxes, audit the copy with audit_labels.run at `imgsz` (default: the model's own), `conf_thres` and
    `device`, with its `second_opinion` (e.g. "mtcnn"), and print the figures; returns photos, deleted,
    recovered, recall, missing_candidates, candidates_per_deleted, candidates_per_photo, precision,
    by_source and goal_met."""
    root, content = load_dataset(data)
    originals = {Path("images", split, p.name).as_posix(): boxes(p) for p in split_images(root, content, split)}
    with tempfile.TemporaryDirectory(prefix="audit_recall_") as tmp:
        deleted = copy_with_deletions(root, content, split, Path(tmp) / "data", delete, seed, min_faces)
        result = audit_labels.run(
            weights=weights,
            data=Path(tmp) / "data" / "data.yaml",
            split=[split],
            imgsz=imgsz,
            conf_thres=conf_thres,
            device=device,
            project=Path(tmp) / "runs",
            second_opinion=second_opinion,
        )
        r = score(result.candidates, deleted, originals)
    r["goal_met"] = r["recall"] >= GOAL_RECALL and r["candidates_per_deleted"] <= GOAL_CANDIDATES
    report(r)
    return r


def report(r: dict[str, Any]) -> None:
    print(f"photos: {r['photos']}, deleted boxes: {r['deleted']}")
    print(f"recovered by a missing candidate (IoU >= {MATCH_IOU}): {r['recovered']} ({r['recall']:.1%})")
    print(
        f"missing candidates: {r['missing_candidates']} ({r['candidates_per_deleted']:.2f} per deleted box, "
        f"{r['candidates_per_photo']:.2f} per photo)"
    )
    for source, n in r["by_source"].items():
        print(f"  from {source}: {n['candidates']} candidates, {n['recovered']} deleted boxes recovered")
    print(f"precision of missing candidates vs the original labels: {r['precision']:.1%}")
    goal = f">= {GOAL_RECALL:.0%} found, <= {GOAL_CANDIDATES:g} candidates per deleted box"
    print(f"goal ({goal}): {'met' if r['goal_met'] else 'NOT met'}")


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path)
    p.add_argument("--data", type=Path)
    p.add_argument("--split", choices=("train", "val", "test"))
    p.add_argument("--delete", type=unit_float, help="share of the label boxes to delete")
    p.add_argument("--seed", type=int)
    p.add_argument("--imgsz", type=image_size, help="default: the model's own size")
    p.add_argument("--conf-thres", type=unit_float)
    p.add_argument("--device")
    p.add_argument("--min-faces", type=int, help="only photos with this many label boxes or more (5: crowds)")
    p.add_argument("--second-opinion", choices=SECOND_OPINIONS, help="audit_labels.py --second-opinion")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.audit_recall", run, opt)


if __name__ == "__main__":
    main(parse_opt())
