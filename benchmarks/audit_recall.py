"""How well the label audit finds faces a labeller skipped: a benchmark, not a test.

Copies a split with a share of its label boxes deleted at random (images hard-linked, not copied),
audits the copy with audit_labels.py and counts the deleted boxes that a `missing` candidate recovers
(IoU >= 0.5, any class). The goal: at least 60% of the deleted faces found, with at most 3 candidates
per deleted box. Precision is that of the missing candidates against the full original labels.

Usage:
    python benchmarks/audit_recall.py --weights weights/face_masks.pt --data data/face_masks_upright.yaml
    python benchmarks/audit_recall.py --split val --delete 0.5 --seed 1 --conf-thres 0.4 --imgsz 416
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
from ultralytics.data.utils import img2label_paths

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import audit_labels  # noqa: E402
from facemask.audit.apply import link_or_copy  # noqa: E402
from facemask.audit.candidates import Candidate, iou  # noqa: E402
from facemask.data.dataset_files import load_dataset, split_images  # noqa: E402
from facemask.paths import DEFAULT_DATA, DEFAULT_WEIGHTS  # noqa: E402

GOAL_RECALL, GOAL_CANDIDATES = 0.6, 3.0
MATCH_IOU = 0.5


def label_lines(image: Path) -> list[str]:
    path = Path(img2label_paths([str(image)])[0])
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()] if path.is_file() else []


def xyxy(lines: list[str]) -> np.ndarray:
    """YOLO lines -> normalised x1, y1, x2, y2 (IoU does not change with the image's scale)."""
    cxcywh = np.array([[float(v) for v in ln.split()[1:]] for ln in lines]).reshape(-1, 4)
    return np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)


def copy_with_deletions(data: Path, split: str, dest: Path, share: float, seed: int) -> dict[str, list[str]]:
    """dest/images/<split> (links) and dest/labels/<split> with `share` of all boxes deleted at random;
    returns the deleted label lines per image (relative path in the copy)."""
    root, content = load_dataset(data)
    images = split_images(root, content, split)
    lines = {image: label_lines(image) for image in images}
    boxes = [(image, i) for image, ls in lines.items() for i in range(len(ls))]
    gone = set(random.Random(seed).sample(boxes, round(share * len(boxes))))
    deleted: dict[str, list[str]] = {}
    for image, ls in lines.items():
        rel = Path("images", split, image.name)
        link_or_copy(image, dest / rel)
        kept = [ln for i, ln in enumerate(ls) if (image, i) not in gone]
        (dest / "labels" / split).mkdir(parents=True, exist_ok=True)
        (dest / "labels" / split / f"{image.stem}.txt").write_text("".join(f"{ln}\n" for ln in kept))
        deleted[rel.as_posix()] = [ln for i, ln in enumerate(ls) if (image, i) in gone]
    (dest / "data.yaml").write_text(yaml.safe_dump({split: f"images/{split}", "names": content["names"]}))
    return deleted


def score(
    candidates: list[Candidate], deleted: dict[str, list[str]], originals: dict[str, np.ndarray]
) -> dict[str, float]:
    """Deleted boxes recovered by a missing candidate, and the missing candidates that are real faces."""
    found: dict[str, list[np.ndarray]] = {}
    for c in candidates:
        if c.kind == "missing":
            found.setdefault(c.image, []).append(c.xyxy(1, 1))
    recovered = sum(
        int((iou(xyxy(lines), np.array(found.get(image, []))) >= MATCH_IOU).any(axis=1).sum())
        for image, lines in deleted.items()
    )
    true = sum(
        int((iou(originals[image], np.array(boxes)) >= MATCH_IOU).any(axis=0).sum()) for image, boxes in found.items()
    )
    n_deleted, n_missing = sum(map(len, deleted.values())), sum(map(len, found.values()))
    return {
        "deleted": n_deleted, "recovered": recovered, "recall": recovered / max(n_deleted, 1),
        "missing_candidates": n_missing, "candidates_per_deleted": n_missing / max(n_deleted, 1),
        "precision": true / max(n_missing, 1),
    }  # fmt: skip


def run(weights: Path, data: Path, split: str, delete: float, seed: int, imgsz: int, conf_thres: float,
        device: str | None) -> dict[str, float]:  # fmt: skip
    root, content = load_dataset(data)
    originals = {
        Path("images", split, p.name).as_posix(): xyxy(label_lines(p)) for p in split_images(root, content, split)
    }
    with tempfile.TemporaryDirectory(prefix="audit_recall_") as tmp:
        deleted = copy_with_deletions(data, split, Path(tmp) / "data", delete, seed)
        result = audit_labels.run(
            weights=weights, data=Path(tmp) / "data" / "data.yaml", split=[split], imgsz=imgsz,
            conf_thres=conf_thres, device=device, project=Path(tmp) / "runs",
        )  # fmt: skip
        return score(result.candidates, deleted, originals)


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--split", default="test")
    p.add_argument("--delete", type=float, default=0.33, help="share of the label boxes to delete")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--imgsz", type=int, default=None, help="default: the model's own size")
    p.add_argument("--conf-thres", type=float, default=0.5)
    p.add_argument("--device")
    return p.parse_args(argv)


def main() -> None:
    opt = parse_opt()
    r = run(**vars(opt))
    met = r["recall"] >= GOAL_RECALL and r["candidates_per_deleted"] <= GOAL_CANDIDATES
    print(f"deleted boxes: {r['deleted']}")
    print(f"recovered by a missing candidate (IoU >= {MATCH_IOU}): {r['recovered']} ({r['recall']:.1%})")
    print(f"missing candidates: {r['missing_candidates']} ({r['candidates_per_deleted']:.2f} per deleted box)")
    print(f"precision of missing candidates vs the original labels: {r['precision']:.1%}")
    goal = f">= {GOAL_RECALL:.0%} found, <= {GOAL_CANDIDATES:g} candidates per deleted box"
    print(f"goal ({goal}): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
