"""tools/gpu_train: what pack.py writes is what the GPU machine trains on. The photos keep their labels and
fit the long side, and parts small enough for one device call each join (join.sh, as run.sh calls it)
into the same files, checked by the manifest; a part not carried yet is named, not half unpacked."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from PIL import Image

from tests.tools import ROOT, load_tool

JOIN = ROOT / "tools" / "gpu_train" / "join.sh"


def test_photos_are_packed_at_the_long_side_with_their_labels(tiny_data: Path, tmp_path: Path) -> None:
    data = Path(yaml.safe_load(tiny_data.read_text())["path"])
    load_tool("gpu_train/pack.py").pack_images(data, tmp_path, long_side=64, quality=80)
    photos = sorted(p.relative_to(tmp_path / "images") for p in (tmp_path / "images").glob("*/*"))
    assert [p.with_suffix("") for p in photos] == sorted(
        p.relative_to(data / "images").with_suffix("") for p in (data / "images").glob("*/*")
    )
    for photo in photos:
        with Image.open(tmp_path / "images" / photo) as image:
            assert max(image.size) <= 64
        label = data / "labels" / photo.parent / f"{photo.stem}.txt"
        if label.exists():
            assert (tmp_path / "labels" / photo.parent / label.name).read_text() == label.read_text()
    packed = yaml.safe_load((tmp_path / "data.yaml").read_text())
    assert packed["path"] == ".gpu/payload/data" and packed["names"] == {0: "Mask", 1: "No Mask"}


def payload(root: Path) -> dict[str, bytes]:
    files = {"wheels/a.whl": os.urandom(900_000), "data/images/train/1.jpg": os.urandom(1_500_000), "b.pt": b"x"}
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return files


def test_parts_join_into_the_same_files(tmp_path: Path) -> None:
    files = payload(tmp_path / "payload")
    parts = load_tool("gpu_train/pack.py").cut_into_parts(tmp_path / "payload", tmp_path / "parts", part_mib=1)
    assert len(parts) == 3 and all(p.stat().st_size <= 2**20 for p in parts)
    subprocess.run(["bash", JOIN, tmp_path / "parts", tmp_path / "joined"], check=True)
    assert {name: (tmp_path / "joined" / name).read_bytes() for name in files} == files


def test_a_missing_or_damaged_part_stops_the_join(tmp_path: Path) -> None:
    payload(tmp_path / "payload")
    parts = load_tool("gpu_train/pack.py").cut_into_parts(tmp_path / "payload", tmp_path / "parts", part_mib=1)
    parts[1].rename(tmp_path / "elsewhere")
    missing = subprocess.run(["bash", JOIN, tmp_path / "parts", tmp_path / "a"], capture_output=True, text=True)
    assert missing.returncode == 2 and "part-01" in missing.stderr and not (tmp_path / "a").exists()
    (tmp_path / "elsewhere").write_bytes(b"not the part")
    (tmp_path / "elsewhere").rename(parts[1])
    damaged = subprocess.run(["bash", JOIN, tmp_path / "parts", tmp_path / "b"], capture_output=True, text=True)
    assert damaged.returncode != 0 and not (tmp_path / "b").exists()
