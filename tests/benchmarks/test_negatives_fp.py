"""benchmarks/negatives_fp.py, and through it its helpers benchmarks/negative_crops.py (the faceless crops,
save_train) and benchmarks/haar_cascade.py (the face finder, with the edge cascade of conftest.py)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from benchmarks import negatives_fp
from facemask.owned_dirs import MARKER
from tests.benchmarks.conftest import draw_edge
from tests.conftest import MASK_RGB, background, draw_faces, yolo_line

SIZE = (320, 240)
FACE = (140, 90, 180, 150)  # in the middle: the corners are far from it


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Two val photos and one train photo of a known source, each with one face in the middle; and a turned
    copy (made by the merge), which is not cut."""
    root = tmp_path / "ds"
    names = {
        "val": ["andrewmvd_a_00000001", "aditya276_b_00000002", "andrewmvd_a_00000001_rot90"],
        "train": ["andrewmvd_c_00000003"],
    }
    for split, stems in names.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i, stem in enumerate(stems):
            draw_faces(background(i, SIZE), [(MASK_RGB, FACE)]).save(root / "images" / split / f"{stem}.jpg")
            (root / "labels" / split / f"{stem}.txt").write_text(yolo_line(0, FACE, SIZE))
    data = tmp_path / "ds.yaml"
    data.write_text(
        yaml.safe_dump(
            {"path": str(root), "train": "images/train", "val": "images/val", "names": {0: "Mask", 1: "No Mask"}}
        )
    )
    return data


def test_faceless_crops_get_false_detection_rows_per_source(
    weights: Path, dataset: Path, tmp_path: Path, capsys
) -> None:
    flags = shlex.split("--splits val --min-side 24 --haar none")
    opt = negatives_fp.parse_opt(
        [*flags, "--weights", str(weights), "--data", str(dataset), "--out", str(tmp_path / "out")]
    )
    result = negatives_fp.run(**vars(opt))
    made = result["crops"]
    assert made.photos == 2 and len(made.crops) == 4  # two corners of each photo; the turned copy left out
    assert all(c.image.shape == (120, 120, 3) for c in made.crops)
    rows = result["rows"]
    assert [r[:3] for r in rows] == [
        ["best.pt", "aditya276", "2"],
        ["best.pt", "andrewmvd", "2"],
        ["best.pt", "all", "4"],
    ]
    assert all(re.fullmatch(r"\d+\.\d{3}", r[3]) and re.fullmatch(r"\d+\.\d%", r[4]) for r in rows)
    out = capsys.readouterr().out
    assert "2 val photos of andrewmvd, aditya276: 4 faceless crops" in out and "no face finder" in out
    assert re.search(r"^\| best\.pt \| all \| 4 \| [\d.]+ \| [\d.]+% \| [\d.]+ \| [\d.]+% \|$", out, re.M), out
    worst = result["worst"]["best.pt"]
    assert (tmp_path / "out" / "worst_best_pt.png").is_file() == bool(worst)


def test_save_train_writes_the_train_crops_as_a_folder_of_ours(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "negatives"
    flags = shlex.split("--min-side 24 --haar none")
    opt = negatives_fp.parse_opt([*flags, "--data", str(dataset), "--save-train", str(out)])
    negatives_fp.run(**vars(opt))
    assert sorted(p.name for p in out.glob("*.jpg")) == [
        "andrewmvd_c_00000003_neg0.jpg",
        "andrewmvd_c_00000003_neg1.jpg",
    ]
    assert json.loads((out / MARKER).read_text())["kind"] == "negatives"


def test_the_face_finder_drops_the_crop_that_shows_a_face(
    weights: Path, dataset: Path, edge_cascade: Path, tmp_path: Path, capsys
) -> None:
    photo = Path(yaml.safe_load(dataset.read_text())["path"]) / "images" / "val" / "andrewmvd_a_00000001.jpg"
    image = np.array(Image.open(photo))
    Image.fromarray(draw_edge(image, 40, 40)).save(photo)  # in its top-left crop, far from the labelled face
    flags = ["--splits", "val", "--min-side", "24", "--haar", str(edge_cascade)]
    opt = negatives_fp.parse_opt(
        [*flags, "--weights", str(weights), "--data", str(dataset), "--out", str(tmp_path / "out")]
    )
    result = negatives_fp.run(**vars(opt))
    made = result["crops"]
    assert [c.name for c in made.found_face] == ["andrewmvd_a_00000001_neg0"] and len(made.crops) == 3
    assert [r[:3] for r in result["rows"]][-2:] == [
        ["best.pt", "all", "3"],
        ["best.pt", "dropped by the face finder", "1"],
    ]
    out = capsys.readouterr().out
    assert "4 faceless crops (0 photos without room for one, 0 without labels skipped); face finder: edge.xml" in out
    assert "dropped 1, 3 left" in out
    assert (tmp_path / "out" / "face_finder_dropped.png").is_file()
