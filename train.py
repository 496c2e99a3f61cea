"""Fine-tune YOLOv5 on the merged face-mask dataset with ultralytics, logging to Weights & Biases.

Defaults come from configs/train.yaml (the original recipe: YOLOv5s, 640 px, batch 64, 300 epochs,
patience 100); flags override them.

Usage:
    python train.py --img 640 --batch 64 --epochs 300 --data data/face_masks.yaml --weights yolov5s.pt
    python train.py --cfg yolov5s.yaml                                  # from scratch
    python train.py --weights ../shared/weights/yolov5nu_coco_backbone.pt --img 320 --epochs 10 --device cpu
    python train.py --config configs/train_cpu.yaml                     # the recipe of the shipped model
    python train.py --device 0,1,2,3                                    # multi-GPU (ultralytics DDP)
    python train.py --resume                                            # continue the newest run
    python train.py --resume runs/train/exp/weights/last.pt --wandb offline

Python:
    from train import run
    run_dir = run(data="data/face_masks.yaml", weights="yolov5s.pt", epochs=50)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from facemask.cli import image_size, int_range, positive_int, run_or_fail, script_parser
from facemask.model.training import DEFAULT_CONFIG, train
from facemask.model.wandb_logging import WANDB_MODES


def run(**kwargs) -> Path:
    """Train; keyword arguments are the long flag names (img -> imgsz, batch_size -> batch also work)."""
    kwargs["imgsz"] = kwargs.pop("img", None) or kwargs.get("imgsz")
    kwargs["batch"] = kwargs.pop("batch_size", None) or kwargs.get("batch")
    kwargs["config"] = kwargs.get("config") or DEFAULT_CONFIG
    return train(**kwargs)


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = script_parser(__doc__)
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="defaults (configs/train.yaml)")
    p.add_argument("--weights", help="checkpoint to start from: yolov5s.pt (downloaded), or a local .pt")
    p.add_argument("--cfg", help="model yaml, e.g. yolov5s.yaml: train from scratch (with --weights: transfer)")
    p.add_argument("--data", help="dataset yaml (data/face_masks.yaml)")
    p.add_argument("--hyp", type=Path, help="yaml of hyperparameters overriding the config's 'hyp'")
    p.add_argument("--epochs", type=positive_int())
    p.add_argument("--batch-size", "--batch", dest="batch", type=int_range(1, also=(-1,)), help="total (-1: auto)")
    p.add_argument("--img", "--imgsz", "--img-size", dest="imgsz", type=image_size, help="train/val size (pixels)")
    p.add_argument("--device", help="cpu, 0, or 0,1,2,3 for multi-GPU")
    p.add_argument("--workers", type=int_range(0), help="dataloader workers")
    p.add_argument("--patience", type=int_range(0), help="epochs without improvement before stopping (0: never)")
    p.add_argument("--seed", type=int_range(0, 2**32 - 1))
    p.add_argument("--cache", nargs="?", const="ram", choices=["ram", "disk"], help="cache images in ram or on disk")
    p.add_argument("--project", help="save to project/name")
    p.add_argument("--name", help="save to project/name")
    p.add_argument("--exist-ok", action="store_true", default=None, help="reuse project/name instead of name2, ...")
    p.add_argument("--resume", nargs="?", const=True, default=False, help="resume the newest run, or the given last.pt")
    p.add_argument("--wandb", choices=WANDB_MODES, help="W&B mode (default: online with WANDB_API_KEY, else offline)")
    p.add_argument("--wandb-project", help="W&B project (default: facemask)")
    p.add_argument("--wandb-entity", help="W&B team or user")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_dir = run_or_fail("train.py", run, opt)
    print(f"Results saved to {run_dir} (best weights: {run_dir / 'weights' / 'best.pt'})")


if __name__ == "__main__":
    main(parse_opt())
