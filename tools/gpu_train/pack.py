"""Pack what a GPU training run needs into `.gpu/` (git-ignored), small enough to travel to a lent GPU
machine (64 MiB a call) that has PyTorch but not ultralytics and cannot reach the internet.

Usage:
    python tools/gpu_train/pack.py                                   # datasets/face_masks_crowd -> .gpu/
    python tools/gpu_train/pack.py --data datasets/face_masks_crowd --long-side 640 --quality 88

Then, on the GPU machine (the device tool's `run`, carrying `.gpu`):
    bash tools/gpu_train/run.sh                                       # trains, copies the run to $OUT

The photos are re-encoded with their long side at most `--long-side` pixels: training runs at 512 or
640 px, so nothing the model sees is lost, and the merged dataset (135 MB) fits in one call. YOLO labels
are normalised, so they are copied unchanged. The wheels are ultralytics and the few packages it needs
that the GPU machine lacks, for its Python (3.12, x86-64); pip downloads them here, where PyPI answers.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".gpu"
# What the GPU machine's image lacks of ultralytics' and our training path's requirements.
WHEELS = (
    "ultralytics-thop",
    "defusedxml",
    "polars",
    "polars-runtime-32",
    "ultralytics-platform",
    "imagehash",
    "pywavelets",
)
BACKBONE = ROOT.parent / "shared/weights/yolov5nu_coco_backbone.pt"


def pack_images(data: Path, out: Path, long_side: int, quality: int) -> int:
    """Copy every split's photos (re-encoded, at most long_side px) and labels; return the bytes written."""
    photos = sorted((data / "images").glob("*/*"))
    for photo in tqdm(photos, desc="photos", unit="photo"):
        split = photo.parent.name
        target = out / "images" / split / (photo.stem + ".jpg")
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(photo) as image:
            image = image.convert("RGB")
            image.thumbnail((long_side, long_side))
            image.save(target, quality=quality)
        label = data / "labels" / split / (photo.stem + ".txt")
        if label.exists():
            (out / "labels" / split).mkdir(parents=True, exist_ok=True)
            shutil.copy2(label, out / "labels" / split / label.name)
    names = (data / "data.yaml").read_text().split("names:", 1)[1]
    # the path as the GPU machine sees it: run.sh trains from the repository root there
    header = "path: .gpu/data\ntrain: images/train\nval: images/val\ntest: images/test\n"
    (out / "data.yaml").write_text(f"{header}names:{names}")
    return sum(f.stat().st_size for f in out.rglob("*") if f.is_file())


def download_wheels(out: Path) -> None:
    """ultralytics at the version installed here (the one the tests pin), for CPython 3.12 on x86-64."""
    pins = [f"ultralytics=={version('ultralytics')}", *WHEELS]
    target = ["--python-version", "3.12", "--platform", "manylinux2014_x86_64", "--only-binary=:all:"]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *target, "-d", str(out), *pins], check=True)


def run(data: str | Path = ROOT / "datasets/face_masks_crowd", long_side: int = 640, quality: int = 88) -> Path:
    """Write .gpu/data (the dataset, re-encoded), .gpu/wheels and the COCO-pretrained backbone.

    Args:
        data: a merged dataset (prepare_data.py --out).
        long_side: the longest side of a packed photo, in pixels.
        quality: JPEG quality of the packed photos.
    """
    shutil.rmtree(OUT / "data", ignore_errors=True)
    size = pack_images(Path(data), OUT / "data", long_side, quality)
    download_wheels(OUT / "wheels")
    shutil.copy2(BACKBONE, OUT / BACKBONE.name)
    wheels = sum(f.stat().st_size for f in (OUT / "wheels").iterdir())
    print(f"{OUT}: dataset {size / 2**20:.1f} MiB, wheels {wheels / 2**20:.1f} MiB (a call carries 64 MiB)")
    return OUT


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=ROOT / "datasets/face_masks_crowd", type=Path, help="merged dataset folder")
    p.add_argument("--long-side", type=int, default=640, help="longest side of a packed photo (px)")
    p.add_argument("--quality", type=int, default=88, help="JPEG quality of the packed photos")
    return p.parse_args(argv)


if __name__ == "__main__":
    run(**vars(parse_opt()))
