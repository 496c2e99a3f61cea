"""Pack what a GPU training run needs into `.gpu/` (git-ignored), small enough to travel to a lent GPU
machine (64 MiB a call) that has PyTorch but not ultralytics and cannot reach the internet.

Usage:
    python tools/gpu_train/pack.py                                   # datasets/face_masks_crowd -> .gpu/
    python tools/gpu_train/pack.py --data datasets/face_masks_crowd --long-side 640 --quality 88
    python tools/gpu_train/pack.py --data datasets/face_masks_crowd_add   # the audited labels the CPU run uses

Then, on the GPU machine, one device-tool `run` a part, back to back (a machine stays warm 30 s after a
call and keeps what earlier calls carried), the last one training:
    run(command="ls .gpu/parts", carry=[".gpu/parts/part-00"])        # ... one call per part but the last
    run(command="bash tools/gpu_train/run.sh", carry=[".gpu/parts/part-04", ".gpu/parts/manifest.txt"], timeout_s=580)

The photos are re-encoded with their long side at most `--long-side` pixels: training runs at 640 px at
most, so nothing the model sees is lost. YOLO labels are normalised, so they are copied unchanged. The
wheels are ultralytics and the packages it needs that the GPU machine lacks, for its Python (3.12, x86-64);
pip downloads them here, where PyPI answers. A call carries 64 MiB with the working tree, so
the payload (dataset about 97 MiB, wheels 58 MiB, polars' runtime alone 54 MB) goes as a tar cut into
parts of `--part-mib` (36 MiB: the tree, with a kept checkpoint, is about 23 MiB); run.sh checks the
manifest's SHA-256 and unpacks it.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import shutil
import subprocess
import sys
import tarfile
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
    header = "path: .gpu/payload/data\ntrain: images/train\nval: images/val\ntest: images/test\n"
    (out / "data.yaml").write_text(f"{header}names:{names}")
    return sum(f.stat().st_size for f in out.rglob("*") if f.is_file())


def download_wheels(out: Path) -> None:
    """ultralytics at the version installed here (the one the tests pin), for CPython 3.12 on x86-64."""
    pins = [f"ultralytics=={version('ultralytics')}", *WHEELS]
    target = ["--python-version", "3.12", "--platform", "manylinux2014_x86_64", "--only-binary=:all:"]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *target, "-d", str(out), *pins], check=True)


def cut_into_parts(payload: Path, parts: Path, part_mib: int) -> list[Path]:
    """payload/ as one uncompressed tar (photos and wheels are compressed already) cut into files of at most
    part_mib MiB, and manifest.txt: the parts' names and the whole tar's SHA-256, for run.sh to check."""
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    whole = parts / "payload.tar"
    with tarfile.open(whole, "w") as tar:
        tar.add(payload, arcname=".")
    digest, names, size = hashlib.sha256(), [], part_mib * 2**20
    with whole.open("rb") as f:
        while chunk := f.read(size):
            digest.update(chunk)
            names.append(parts / f"part-{len(names):02d}")
            names[-1].write_bytes(chunk)
    whole.unlink()
    (parts / "manifest.txt").write_text(f"{digest.hexdigest()}\n" + "".join(f"{n.name}\n" for n in names))
    return names


def run(
    data: str | Path = ROOT / "datasets/face_masks_crowd", long_side: int = 640, quality: int = 88, part_mib: int = 36
) -> list[Path]:
    """Write .gpu/payload (the dataset re-encoded, the wheels, the COCO-pretrained backbone) and cut it into
    .gpu/parts; returns the parts, in the order run.sh joins them.

    Args:
        data: a merged dataset (prepare_data.py --out).
        long_side: the longest side of a packed photo, in pixels.
        quality: JPEG quality of the packed photos.
        part_mib: the largest part, in MiB: 64 less the working tree and the manifest.
    """
    payload = OUT / "payload"
    shutil.rmtree(payload, ignore_errors=True)
    size = pack_images(Path(data), payload / "data", long_side, quality)
    download_wheels(payload / "wheels")
    shutil.copy2(BACKBONE, payload / BACKBONE.name)
    wheels = sum(f.stat().st_size for f in (payload / "wheels").iterdir())
    parts = cut_into_parts(payload, OUT / "parts", part_mib)
    print(f"dataset {size / 2**20:.1f} MiB, wheels {wheels / 2**20:.1f} MiB -> {len(parts)} parts in {OUT / 'parts'}")
    return parts


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    d = {name: param.default for name, param in inspect.signature(run).parameters.items()}  # run()'s, once
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=d["data"], type=Path, help="merged dataset folder")
    p.add_argument("--long-side", type=int, default=d["long_side"], help="longest side of a packed photo (px)")
    p.add_argument("--quality", type=int, default=d["quality"], help="JPEG quality of the packed photos")
    p.add_argument("--part-mib", type=int, default=d["part_mib"], help="largest part carried by one call (MiB)")
    return p.parse_args(argv)


if __name__ == "__main__":
    run(**vars(parse_opt()))
