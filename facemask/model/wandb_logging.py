"""Weights & Biases logging of a training run, attached to ultralytics as trainer callbacks.

Written here rather than taken from ultralytics' own W&B callback because that one is switched off
whenever pytest runs (so it could not be tested) and does not log what this project needs: the
dataset report from prepare_data.py and a table of sample predictions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

WANDB_MODES = ("online", "offline", "disabled")
RUN_ID_FILE = "wandb_run_id.txt"  # in the run folder, so --resume continues the same W&B run
SAMPLE_IMAGES = 16
PLOTS = (
    "results.png",
    "*PR_curve.png",
    "*F1_curve.png",
    "confusion_matrix*.png",
    "labels.jpg",
)  # globs in the run folder


def default_mode() -> str:
    """online with an API key, else offline (synced later with `wandb sync`)."""
    return "online" if os.environ.get("WANDB_API_KEY") else "offline"


class WandbLogger:
    """Opens (or resumes) a run when training starts, logs every epoch, and at the end logs curves,
    the confusion matrix, sample predictions, the dataset report and the best weights."""

    def __init__(self, mode: str, project: str, entity: str | None, config: dict[str, Any], dataset_root: Path | None):
        if mode not in WANDB_MODES:
            raise ValueError(f"--wandb must be one of {', '.join(WANDB_MODES)}")
        self.mode, self.project, self.entity, self.config = mode, project, entity, config
        self.dataset_root = dataset_root
        self.run = None
        self.last_epoch = 0

    def attach(self, model) -> None:
        """Register the callbacks on an ultralytics YOLO model before `model.train()`."""
        if self.mode == "disabled":
            return
        model.add_callback("on_pretrain_routine_start", self.on_pretrain_routine_start)
        model.add_callback("on_train_epoch_end", self.on_train_epoch_end)
        model.add_callback("on_fit_epoch_end", self.on_fit_epoch_end)
        model.add_callback("on_train_end", self.on_train_end)
        model.add_callback("teardown", self.teardown)

    def on_pretrain_routine_start(self, trainer) -> None:
        import wandb

        save_dir = Path(trainer.save_dir)
        save_dir.mkdir(parents=True, exist_ok=True)
        id_file = save_dir / RUN_ID_FILE
        run_id = id_file.read_text().strip() if trainer.args.resume and id_file.is_file() else None
        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            name=save_dir.name,
            dir=str(save_dir),
            mode=self.mode,
            id=run_id,
            resume="allow" if run_id else None,
            config=self.config,
        )
        id_file.write_text(self.run.id)
        self.run.config.update({"ultralytics": vars(trainer.args)}, allow_val_change=True)
        self.run.define_metric("*", step_metric="epoch")

    def on_train_epoch_end(self, trainer) -> None:
        self.run.log({**trainer.label_loss_items(trainer.tloss, prefix="train"), **trainer.lr}, commit=False)

    def on_fit_epoch_end(self, trainer) -> None:
        epoch = trainer.epoch + 1
        if epoch <= self.last_epoch or epoch > trainer.epochs:
            # ultralytics calls this once more after validating best.pt: the run's final metrics
            self.run.summary.update({f"final/{k}": v for k, v in trainer.metrics.items()})
            return
        self.last_epoch = epoch
        self.run.log({**trainer.metrics, "epoch": epoch})

    def on_train_end(self, trainer) -> None:
        import wandb

        save_dir = Path(trainer.save_dir)
        names = trainer.validator.metrics.names if trainer.validator else trainer.data["names"]
        final: dict[str, Any] = {}
        metrics = getattr(trainer.validator, "metrics", None)
        for curve, (x, y, x_title, _) in zip(
            getattr(metrics, "curves", []), getattr(metrics, "curves_results", []), strict=False
        ):
            final[f"curves/{curve}"] = wandb.plot.line_series(
                xs=list(map(float, x[:: max(1, len(x) // 200)])),
                ys=[list(map(float, row[:: max(1, len(x) // 200)])) for row in y],
                keys=[names[i] for i in range(len(y))],
                title=curve,
                xname=x_title,
            )
        matrix = getattr(getattr(trainer.validator, "confusion_matrix", None), "matrix", None)
        if matrix is not None:
            labels = [*[names[i] for i in range(len(names))], "background"]
            final["confusion_matrix"] = wandb.Table(
                columns=["predicted", *labels], data=[[labels[i], *map(int, row)] for i, row in enumerate(matrix)]
            )
        for pattern in PLOTS:
            for plot in sorted(save_dir.glob(pattern)):
                final[f"plots/{plot.stem}"] = wandb.Image(str(plot))
        if trainer.best.is_file():
            final["predictions"] = self._prediction_table(trainer)
        self.run.log(final)
        self._log_dataset_report()
        if trainer.best.is_file():
            art = wandb.Artifact(f"facemask-{self.run.id}", type="model", metadata={"metrics": trainer.metrics})
            art.add_file(str(trainer.best), name="best.pt")
            self.run.log_artifact(art, aliases=["best", "latest"])
        self.finish()

    def _prediction_table(self, trainer):
        """Boxes drawn by the best weights on a few validation images, with counts per class."""
        import supervision as sv
        import wandb
        from ultralytics import YOLO

        from facemask.data.sources import IMAGE_SUFFIXES

        val = trainer.data.get("val")
        images = sorted(p for p in Path(val).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:SAMPLE_IMAGES]
        model = YOLO(str(trainer.best))
        names = model.names
        table = wandb.Table(columns=["image", *names.values()])
        results = model.predict(
            [str(p) for p in images], imgsz=trainer.args.imgsz, device=trainer.args.device, verbose=False
        )
        for image, result in zip(images, results, strict=True):
            dets = sv.Detections.from_ultralytics(result)
            h, w = result.orig_shape
            boxes = [
                {
                    "position": {"minX": x1 / w, "minY": y1 / h, "maxX": x2 / w, "maxY": y2 / h},
                    "class_id": int(c),
                    "scores": {"conf": float(s)},
                    "box_caption": f"{names[int(c)]} {s:.2f}",
                }
                for (x1, y1, x2, y2), c, s in zip(dets.xyxy.tolist(), dets.class_id, dets.confidence, strict=True)
            ]
            counts = [int((dets.class_id == i).sum()) for i in names]
            table.add_data(
                wandb.Image(str(image), boxes={"predictions": {"box_data": boxes, "class_labels": names}}), *counts
            )
        return table

    def _log_dataset_report(self) -> None:
        """prepare_data.py's report.json (and its chart) as a dataset-report artifact and a split table."""
        import wandb

        report = self.dataset_root / "report.json" if self.dataset_root else None
        if report is None or not report.is_file():
            return
        art = wandb.Artifact(f"dataset-report-{self.run.id}", type="dataset-report")
        art.add_file(str(report))
        if report.with_suffix(".png").is_file():
            art.add_file(str(report.with_suffix(".png")))
            self.run.log({"dataset/report": wandb.Image(str(report.with_suffix(".png")))})
        self.run.log_artifact(art)
        splits = json.loads(report.read_text(encoding="utf-8")).get("splits", {})
        names = sorted({c for v in splits.values() for c in v["boxes"]})
        self.run.log(
            {
                "dataset/splits": wandb.Table(
                    columns=["split", "photos", "rotated", "sliced", "images", *names],
                    data=[
                        [
                            s,
                            v["photos"],
                            v["rotated"],
                            v.get("sliced", 0),
                            v["images"],
                            *(v["boxes"].get(c, 0) for c in names),
                        ]
                        for s, v in splits.items()
                    ],
                )
            }
        )

    def teardown(self, trainer) -> None:
        """Training raised or was interrupted: close the run as failed (a no-op after on_train_end)."""
        self.finish(exit_code=1)

    def finish(self, exit_code: int | None = None) -> None:
        if self.run is not None:
            self.run.finish(exit_code=exit_code)
            self.run = None

    def sync_hint(self, run_dir: Path) -> str | None:
        """The command that uploads an offline run."""
        if self.mode != "offline":
            return None
        runs = sorted((run_dir / "wandb").glob("offline-run-*"), key=lambda p: p.stat().st_mtime)
        return f"wandb sync {runs[-1]}" if runs else None
