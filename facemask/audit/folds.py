"""`--folds K`: audit photos a model was trained on with models that never saw them.

The photos are split into K folds; for each fold a model is fine-tuned on the other folds, from the
point the audited model itself started from (its checkpoint's train_args `model`), never from the
audited weights, which have seen every fold. Each fold is then audited by its own model, from
weights/last.pt: best.pt is chosen on the held-out fold, which would favour agreeing with its labels.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml
from ultralytics.data.utils import img2label_paths

from facemask.audit.apply import link_or_copy
from facemask.audit.candidates import AuditError
from facemask.inference.detector import Detector, DetectorSettings
from facemask.model.training import DEFAULT_CONFIG, train
from facemask.paths import PROJECT_ROOT


def assign_folds(images: list[Path], k: int, seed: int = 0) -> list[list[Path]]:
    """K folds of near-equal size, the same for the same photos and seed."""
    if k < 2 or len(images) < k:
        raise AuditError(f"--folds must be at least 2 and at most the {len(images)} photos to fold, not {k}")
    order = sorted(images)
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def fold_dataset(train_images: list[Path], val_images: list[Path], names: Any, dest: Path) -> Path:
    """A fresh dataset of links to the photos and their labels (ultralytics writes its label caches
    here, not into the audited dataset); returns its data.yaml."""
    shutil.rmtree(dest, ignore_errors=True)  # a rerun with --exist-ok: links are never written through
    for split, images in (("train", train_images), ("val", val_images)):
        for image in images:
            link_or_copy(image, dest / "images" / split / image.name)
            label = Path(img2label_paths([str(image)])[0])
            if label.is_file():
                link_or_copy(label, dest / "labels" / split / f"{image.stem}.txt")
    data = dest / "data.yaml"
    data.write_text(yaml.safe_dump({"train": "images/train", "val": "images/val", "names": names}, sort_keys=False))
    return data


def start_point(train_args: dict[str, Any], fold_weights: str | Path | None) -> str:
    """What fold models start from: --fold-weights, else what the audited model started from (a path
    recorded relative to the project root is found from any working directory)."""
    start = fold_weights or train_args.get("model")
    if not start:
        raise AuditError("--folds: the checkpoint does not say what it was trained from; give --fold-weights")
    if not fold_weights and train_args.get("resume"):  # a resumed run records its own last.pt as its start
        raise AuditError(
            "--folds: the model's run was resumed, so its checkpoint names its own weights (which saw "
            "every fold) as its start; give --fold-weights, e.g. what its first run started from"
        )
    path = Path(start)
    return str(PROJECT_ROOT / path) if not path.exists() and (PROJECT_ROOT / path).exists() else str(start)


def train_fold(
    data: Path,
    start: str,
    project: Path,
    name: str,
    epochs: int,
    settings: DetectorSettings,
    batch: int,
    config: str | Path = DEFAULT_CONFIG,
) -> Path:
    """A short fine-tune (no per-epoch validation, no plots, no W&B); returns its last.pt."""
    model = {"cfg": start} if Path(start).suffix in (".yaml", ".yml") else {"weights": start}
    run = train(
        config=config,
        data=str(data),
        epochs=epochs,
        imgsz=settings.imgsz,
        batch=batch,
        device=settings.device,
        project=str(project),
        name=name,
        exist_ok=True,
        wandb="disabled",
        val=False,
        plots=False,
        **model,
    )
    return run / "weights" / "last.pt"


def fold_detectors(
    images: list[Path],
    k: int,
    start: str,
    names: Any,
    settings: DetectorSettings,
    folder: Path,
    epochs: int,
    batch: int,
    config: str | Path = DEFAULT_CONFIG,
) -> list[tuple[Detector, list[Path]]]:
    """For each fold, a detector trained on the other folds and the photos it is to audit."""
    folds = assign_folds(images, k)
    out = []
    for i, held in enumerate(folds, 1):
        rest = [p for j, fold in enumerate(folds, 1) if j != i for p in fold]
        data = fold_dataset(rest, held, names, folder / "data" / f"fold{i}")
        print(f"--folds: training fold {i} of {k} on {len(rest)} photos, to audit {len(held)}")
        weights = train_fold(data, start, folder, f"fold{i}", epochs, settings, batch, config)
        out.append((Detector(weights, settings), held))
    return out
