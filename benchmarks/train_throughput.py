"""Training throughput (images/s) of YOLOv5n and YOLOv5s at 320 and 640 px: a benchmark, not a test.

Times full ultralytics training steps (forward, loss, backward, SGD step) on random batches with
random boxes, after warm-up, so the figure is the model's and not the data loader's. Real epochs
add decoding and mosaic augmentation on top (see MODEL_CARD.md for a measured epoch).

Usage:
    python -m benchmarks.train_throughput                          # CPU: v5n and v5s at 320 and 640
    python -m benchmarks.train_throughput --device 0 --batch 64    # a GPU
    python -m benchmarks.train_throughput --models yolov5n.yaml --imgsz 416 --steps 5
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import torch
from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import DEFAULT_CFG

from benchmarks import defaults
from facemask.cli import image_size, int_range, positive_int, run_or_fail


def random_batch(batch: int, imgsz: int, faces: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Images and `faces` boxes per image (normalised xywh), as ultralytics' loss expects them."""
    n = batch * faces
    xy = torch.rand(n, 2) * 0.8 + 0.1
    wh = torch.rand(n, 2) * 0.1 + 0.02
    return {
        "img": torch.rand(batch, 3, imgsz, imgsz, device=device),
        "batch_idx": torch.arange(batch).repeat_interleave(faces).float().to(device),
        "cls": torch.randint(0, 2, (n, 1)).float().to(device),
        "bboxes": torch.cat([xy, wh], 1).to(device),
    }


def throughput(cfg: str, imgsz: int, batch: int, steps: int, warmup: int, device: torch.device) -> float:
    model = DetectionModel(cfg, nc=2, verbose=False).to(device)
    model.args = get_cfg(DEFAULT_CFG)  # loss gains (box, cls, dfl)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.937)
    data = random_batch(batch, imgsz, faces=6, device=device)
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        loss, _ = model.loss(data)
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def run(
    models: Sequence[str] = ("yolov5n.yaml", "yolov5s.yaml"),
    imgsz: Sequence[int] = (320, 640),
    batch: int = 16,
    steps: int = 4,
    warmup: int = 1,
    device: str = "cpu",
) -> list[tuple[str, int, float]]:
    """Print and return (model, imgsz, images/s) for each model at each size.

    models: ultralytics model yamls; imgsz: square input sizes; batch: images per step
    steps: timed steps after `warmup` untimed ones; device: 'cpu' or a CUDA index"""
    where = torch.device("cpu" if device == "cpu" else f"cuda:{device}")
    name = torch.cuda.get_device_name(where) if where.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"training throughput, batch {batch}, {name}, torch {torch.__version__}")
    print(f"{'model':<14}{'imgsz':>6}{'images/s':>10}{'s/image':>9}")
    rows = []
    for cfg in models:
        for size in imgsz:
            ips = throughput(cfg, size, batch, steps, warmup, where)
            rows.append((cfg, size, ips))
            print(f"{cfg:<14}{size:>6}{ips:>10.1f}{1 / ips:>9.3f}", flush=True)
    return rows


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", help="ultralytics model yamls")
    p.add_argument("--imgsz", nargs="+", type=image_size)
    p.add_argument("--batch", type=positive_int())
    p.add_argument("--steps", type=positive_int(), help="timed steps after warm-up")
    p.add_argument("--warmup", type=int_range(0))
    p.add_argument("--device", help="cpu or a CUDA index")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.train_throughput", run, opt)


if __name__ == "__main__":
    main(parse_opt())
