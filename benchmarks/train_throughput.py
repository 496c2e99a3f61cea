"""Training throughput (images/s) of YOLOv5n and YOLOv5s at 320 and 640 px: a benchmark, not a test.

Times full ultralytics training steps (forward, loss, backward, SGD step) on random batches with
random boxes, after warm-up, so the figure is the model's and not the data loader's. Real epochs
add decoding and mosaic augmentation on top (see the README's model card for a measured epoch).

Usage:
    python benchmarks/train_throughput.py                          # CPU: v5n and v5s at 320 and 640
    python benchmarks/train_throughput.py --device 0 --batch 64    # a GPU
    python benchmarks/train_throughput.py --models yolov5n.yaml --imgsz 416 --steps 5
"""

from __future__ import annotations

import argparse
import time

import torch
from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import DEFAULT_CFG


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["yolov5n.yaml", "yolov5s.yaml"])
    p.add_argument("--imgsz", nargs="+", type=int, default=[320, 640])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=4, help="timed steps after warm-up")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or a CUDA index")
    opt = p.parse_args()
    device = torch.device("cpu" if opt.device == "cpu" else f"cuda:{opt.device}")
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"training throughput, batch {opt.batch}, {where}, torch {torch.__version__}")
    print(f"{'model':<14}{'imgsz':>6}{'images/s':>10}{'s/image':>9}")
    for cfg in opt.models:
        for imgsz in opt.imgsz:
            ips = throughput(cfg, imgsz, opt.batch, opt.steps, opt.warmup, device)
            print(f"{cfg:<14}{imgsz:>6}{ips:>10.1f}{1 / ips:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
