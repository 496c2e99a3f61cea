"""leak_check.py (facemask/data/leak_check*.py) on a tiny merged dataset: a test photo that is an augmented
copy of a train photo (turned, cropped, stretched, darkened, re-encoded) must be found, a photo of its own
must not, and the split's share decides the exit status. The photos are random shapes (corners and blobs
for SIFT); the embedding is an untrained YOLOv5n (the candidates cover the whole small train split anyway)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

import leak_check
from facemask.data.leak_check_photos import LeakCheckError
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]
SIZE = (320, 240)
FAST = {"weights": "yolov5n.yaml", "workers": 1, "synthetic": 2, "random_pairs": 20}


def shapes(seed: int) -> np.ndarray:
    """A photo of its own: 150 random filled circles and rectangles on a random colour."""
    rng = np.random.default_rng(seed)
    image = np.empty((SIZE[1], SIZE[0], 3), np.uint8)
    image[:] = rng.integers(0, 256, 3)
    for _ in range(150):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, SIZE[0])), int(rng.integers(0, SIZE[1]))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), int(rng.integers(3, 20)), colour, -1)
        else:
            cv2.rectangle(image, (x, y), (x + int(rng.integers(4, 40)), y + int(rng.integers(4, 40))), colour, -1)
    return image


def augmented(image: np.ndarray) -> np.ndarray:
    """Turned 6 degrees, cropped by a tenth, stretched, darkened, as the public sets' copies are."""
    h, w = image.shape[:2]
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 6, 1.0), (w, h))
    cropped = turned[h // 10 : h - h // 10, w // 10 : w - w // 10]
    return (cv2.resize(cropped, (int(cropped.shape[1] * 1.2), cropped.shape[0])) * 0.6).astype(np.uint8)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """train: four photos, and a turned copy (as the merge names them) of the clean test photo, which the
    check skips; test: the leaked copy of train photo 0, a clean photo, and a file that is not an image;
    val: a clean photo."""
    root = tmp_path / "ds"
    photos = {
        **{f"train/photo{i}.jpg": shapes(i) for i in range(4)},
        "train/clean_rot90.jpg": cv2.rotate(shapes(10), cv2.ROTATE_90_COUNTERCLOCKWISE),
        "test/leaked.jpg": augmented(shapes(0)),
        "test/clean.jpg": shapes(10),
        "val/other.jpg": shapes(11),
    }
    for rel, image in photos.items():
        (root / "images" / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / rel), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    (root / "images" / "test" / "broken.jpg").write_text("not a JPEG")
    return root


def test_the_augmented_copy_is_found_and_the_clean_photos_are_not(dataset: Path, tmp_path: Path, capsys) -> None:
    result = leak_check.run(data=dataset, save=tmp_path / "sheets", **FAST)
    ids = result.compared.query_id
    assert [(ids[f.query], result.compared.train_id[f.train]) for f in result.leaks] == [
        ("test/leaked.jpg", "train/photo0.jpg")
    ]
    assert result.leaks[0].inliers >= result.options.min_inliers and result.leaks[0].spread >= 0.2
    assert result.shares() == {"val": (1, 0, 0.0), "test": (2, 1, 0.5)}  # broken.jpg skipped, not compared
    assert result.failed
    assert [path.name for path, _ in result.skipped] == ["broken.jpg"]
    assert "train/clean_rot90.jpg" not in result.compared.train_id  # the merge's turned copies are skipped
    assert len(result.synthetic.scores) == len(result.synthetic.ranks) == 2
    out, err = capsys.readouterr()
    assert "WARNING: skipped " in err and "broken.jpg" in err
    assert "| test | 2 | 1 | 50.0% |" in out and "| val | 1 | 0 | 0.0% |" in out
    assert "test/leaked.jpg  ~  train/photo0.jpg" in out
    assert "2 synthetic augmented copies of query photos, ranked among all 4 train photos" in out
    assert re.search(r"^    verified: \d; found end to end \(a candidate and verified\): \d of 2$", out, re.M), out
    csv_rows = (tmp_path / "sheets" / "matches.csv").read_text().splitlines()
    assert csv_rows[0].startswith("query,train,inliers") and csv_rows[1].startswith("test/leaked.jpg,train/photo0.jpg")
    assert (tmp_path / "sheets" / "matches_01.png").is_file() and (tmp_path / "sheets" / "synthetic_01.png").is_file()


def test_the_script_exits_1_on_a_leak_and_0_without(dataset: Path, tmp_path: Path) -> None:
    args = ["--weights", "yolov5n.yaml", "--workers", "1", "--synthetic", "0", "--random-pairs", "10"]
    leaked = run_script(ROOT / "leak_check.py", ["--data", dataset, "--splits", "val,test", *args], tmp_path)
    assert leaked.code == 1, leaked.stderr
    assert "| test | 2 | 1 | 50.0% |" in leaked.stdout
    clean = run_script(ROOT / "leak_check.py", ["--data", dataset, "--splits", "val", *args], tmp_path)
    assert clean.code == 0, clean.stderr
    assert "| val | 1 | 0 | 0.0% |" in clean.stdout and "Matches (0 queries)" in clean.stdout


def test_a_folder_that_is_no_dataset_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_script(ROOT / "leak_check.py", ["--data", tmp_path / "nowhere", "--weights", "yolov5n.yaml"], tmp_path)
    assert done.code == 2 and done.stderr.strip().count("\n") == 0
    assert "is not a folder" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "ds" / "images" / "train").mkdir(parents=True)
    (tmp_path / "ds" / "images" / "test").mkdir()
    with pytest.raises(LeakCheckError, match="nothing to compare"):
        leak_check.run(data=tmp_path / "ds", splits=["test"], **FAST)
