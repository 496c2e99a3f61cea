"""`prepare_data.py --add`: sets of a user's own, read by their own class names, merged beside the configured
sources. Built from real photos of ../shared/datasets (andrewmvd's with their VOC boxes, aditya276's with
their YOLO boxes), laid out as a Roboflow COCO export and as a YOLO folder whose classes.txt says mask, face."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from facemask.data.download import DownloadError, chosen_kind
from facemask.data.formats.yolo import read_names
from facemask.data.labels import read_voc, read_yolo
from facemask.data.layout import detect, discover
from facemask.data.sources import SourceSpec, load_sources
from facemask.images import safe_name
from tests.conftest import SHARED_DATASETS
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]
ANDREWMVD = SHARED_DATASETS / "andrewmvd-face-mask-detection"
ADITYA = SHARED_DATASETS / "aditya276-face-mask-dataset-yolo-format" / "images" / "train"
COCO_NAMES = {"with_mask": "Mask", "without_mask": "No Mask"}

pytestmark = pytest.mark.skipif(not ANDREWMVD.is_dir(), reason="needs ../shared/datasets")


def coco_set(folder: Path, stems: list[str]) -> dict[str, list]:
    """A Roboflow-style COCO export (train/ and valid/, each with _annotations.coco.json and a dataset-named
    parent category no box uses); returns source-relative photo -> expected [(class, x1, y1, x2, y2)]."""
    expected = {}
    for split, part in (("train", stems[:2]), ("valid", stems[2:])):
        (folder / split).mkdir(parents=True)
        cats = [{"id": 0, "name": "faces", "supercategory": "none"}] + [
            {"id": i, "name": n, "supercategory": "faces"} for i, n in enumerate(COCO_NAMES, 1)
        ]
        data = {"images": [], "annotations": [], "categories": cats}
        for i, stem in enumerate(part):
            shutil.copy(ANDREWMVD / "images" / f"{stem}.jpg", folder / split / f"{stem}.jpg")
            label = read_voc(ANDREWMVD / "annotations" / f"{stem}.xml")
            w, h = Image.open(folder / split / f"{stem}.jpg").size
            data["images"].append({"id": i, "file_name": f"{stem}.jpg", "width": w, "height": h})
            for name, (x1, y1, x2, y2) in zip(label.keys, label.boxes, strict=True):
                cat = 1 + list(COCO_NAMES).index(name)
                data["annotations"].append(
                    {
                        "id": len(data["annotations"]),
                        "image_id": i,
                        "category_id": cat,
                        "bbox": [x1, y1, x2 - x1, y2 - y1],
                        "area": 1,
                        "iscrowd": 0,
                    }
                )
            expected[f"{split}/{stem}.jpg"] = sorted(
                (COCO_NAMES[n], *b) for n, b in zip(label.keys, label.boxes, strict=True)
            )
        (folder / split / "_annotations.coco.json").write_text(json.dumps(data))
    return expected


def yolo_set(folder: Path, stems: list[str]) -> dict[str, list]:
    """Photos with YOLO labels beside them, classes.txt `mask`, `face` (aditya276's ids swapped to say so)."""
    folder.mkdir(parents=True)
    (folder / "classes.txt").write_text("mask\nface\n")
    expected = {}
    for stem in stems:
        image = next(ADITYA.glob(f"{stem}.*[!t]"))
        shutil.copy(image, folder / image.name)
        label = read_yolo(ADITYA / f"{stem}.txt")  # aditya276: 0 no_mask, 1 mask
        w, h = Image.open(image).size
        rows = []
        for key, (x1, y1, x2, y2) in zip(label.keys, label.boxes, strict=True):
            rows.append(f"{1 - int(key)} {(x1 + x2) / 2} {(y1 + y2) / 2} {x2 - x1} {y2 - y1}\n")
        (folder / f"{stem}.txt").write_text("".join(rows))
        expected[image.name] = sorted(
            ("Mask" if k == "1" else "No Mask", x1 * w, y1 * h, x2 * w, y2 * h)
            for k, (x1, y1, x2, y2) in zip(label.keys, label.boxes, strict=True)
        )
    return expected


def merged_boxes(out: Path, source: str, rel: str) -> list:
    """[(class, x1, y1, x2, y2)] in pixels of the merged copy of a photo, whichever split it is in."""
    names = ["Mask", "No Mask"]
    label = next(out.glob(f"labels/*/{safe_name(source, rel)}.txt"))
    image = next(out.glob(f"images/*/{safe_name(source, rel)}.*"))
    w, h = Image.open(image).size
    return sorted(
        (names[int(k)], x1 * w, y1 * h, x2 * w, y2 * h)
        for k, (x1, y1, x2, y2) in zip(read_yolo(label).keys, read_yolo(label).boxes, strict=True)
    )


def assert_same_boxes(got: list, want: list, tol: float = 1.0) -> None:
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[1:] == pytest.approx(w[1:], abs=tol)


def merge_args(tmp_path: Path, *extra) -> list:
    return [
        "--out",
        tmp_path / "merged",
        "--data",
        tmp_path / "data.yaml",
        "--keep-split",
        "none",
        "--no-rotate",
        "--workers",
        "1",
        *extra,
    ]


@pytest.fixture
def two_sets(tmp_path: Path) -> tuple[Path, Path, dict, dict]:
    both = [
        p.stem for p in sorted((ANDREWMVD / "annotations").glob("*.xml")) if set(read_voc(p).keys) == set(COCO_NAMES)
    ]
    coco = coco_set(tmp_path / "coco_set", both[:3])
    both = [p.stem for p in sorted(ADITYA.glob("*.txt")) if set(read_yolo(p).keys) == {"0", "1"}]
    stems = both[:3]  # photos showing masked and unmasked faces
    yolo = yolo_set(tmp_path / "yolo_set", stems)
    return tmp_path / "coco_set", tmp_path / "yolo_set", coco, yolo


def test_detect_tells_the_layouts(two_sets) -> None:
    coco, yolo, _, _ = two_sets
    assert detect(coco) == {"format": "coco", "images": ".", "labels": "."}
    assert detect(yolo) == {"format": "yolo", "images": ".", "labels": "."}
    assert detect(ANDREWMVD) == {"format": "voc", "images": "images", "labels": "annotations"}


def test_one_bad_label_does_not_hide_the_format(two_sets, tmp_path: Path) -> None:
    _, yolo, _, _ = two_sets
    copy = shutil.copytree(yolo, tmp_path / "one_bad")
    bad = sorted(p for p in copy.glob("*.txt") if p.name != "classes.txt")[0]
    bad.write_text("0 0.5 0.5 1.7 0.2\n")  # wider than the photo: the merge reports it, detect still sees YOLO
    assert detect(copy) == {"format": "yolo", "images": ".", "labels": "."}
    apart = tmp_path / "apart"  # labels in a folder of their own, and a note beside them
    for name, folder in (("*.jpg", "images"), ("*.txt", "yolo_labels")):
        (apart / folder).mkdir(parents=True)
        for f in yolo.glob(name):
            if f.name != "classes.txt":
                shutil.copy(f, apart / folder / f.name)
    (apart / "notes.txt").write_text("photos from the back door, March\n")
    assert detect(apart) == {"format": "yolo", "images": "images", "labels": "yolo_labels"}


def test_a_class_id_its_names_file_lacks_is_named_as_such(two_sets, tmp_path: Path) -> None:
    _, yolo, _, _ = two_sets
    copy = shutil.copytree(yolo, tmp_path / "stray_id")
    label = sorted(p for p in copy.glob("*.txt") if p.name != "classes.txt")[0]
    label.write_text(label.read_text() + "7 0.5 0.5 0.1 0.1\n")
    args = ["--add", copy, "--class-map", "face=No Mask", *merge_args(tmp_path)]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "class id 7 is in its labels but not in classes.txt (0 mask, 1 face)" in result.stderr


def test_sources_not_fetched_are_one_line_and_a_missing_folder_a_warning(two_sets, tmp_path: Path) -> None:
    _, yolo, _, _ = two_sets
    spec = {"format": "yolo", "images": ".", "labels": ".", "classes": {"0": "Mask", "1": "No Mask"}}
    specs = [
        SourceSpec(name="mine", folder=yolo.name, **spec),
        SourceSpec(name="big", folder="big-set", download={"kaggle": "someone/big-set"}, **spec),
        SourceSpec(name="gone", folder="gone-set", **spec),
    ]
    lines: list[str] = []
    resolved, samples = discover(yolo.parent, specs, {}, lines.append)
    assert list(resolved) == ["mine"] and len(samples) == 3
    assert lines == [
        f"WARNING: source 'gone' not found at {yolo.parent / 'gone-set'}; skipped",
        f"Not in {yolo.parent}, so not merged: big (--download fetches them)",
    ]


def test_names_files_that_disagree_are_refused(two_sets, tmp_path: Path) -> None:
    _, yolo, _, _ = two_sets
    copy = shutil.copytree(yolo, tmp_path / "two_names")
    (copy / "data.yaml").write_text("names: [face, mask]\n")  # classes.txt says: mask, face
    args = ["--add", copy, "--class-map", "face=No Mask", *merge_args(tmp_path)]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "name the class ids differently (0 face, 1 mask; 0 mask, 1 face): remove the wrong one" in result.stderr
    (copy / "data.yaml").write_text("names: [Mask, FACE, unused]\n")  # agrees, as names are matched, and names more
    assert read_names(copy) == ({"0": "Mask", "1": "FACE", "2": "unused"}, copy / "data.yaml")


def test_face_is_refused_in_one_line_and_nothing_is_written(two_sets, tmp_path: Path) -> None:
    coco, yolo, _, _ = two_sets
    result = run_script(ROOT / "prepare_data.py", ["--add", coco, "--add", yolo, *merge_args(tmp_path)], tmp_path)
    assert result.code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "'face'" in result.stderr and '--class-map "face=No Mask"' in result.stderr
    assert "with_mask -> Mask, without_mask -> No Mask" in result.stdout  # the COCO set's map, said first
    assert "its own train/valid folders are pooled and split anew" in result.stdout  # the export's split
    assert not (tmp_path / "merged").exists() and not (tmp_path / "data.yaml").exists()


def test_with_a_class_map_every_box_of_both_sets_is_merged(two_sets, tmp_path: Path) -> None:
    coco, yolo, coco_boxes, yolo_boxes = two_sets
    args = ["--add", coco, "--add", yolo, "--class-map", "face=No Mask", *merge_args(tmp_path)]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 0, result.stderr
    assert "0 mask -> Mask, 1 face -> No Mask" in result.stdout
    out = tmp_path / "merged"
    for source, expected in (("coco_set", coco_boxes), ("yolo_set", yolo_boxes)):
        for rel, boxes in expected.items():
            assert_same_boxes(merged_boxes(out, source, rel), boxes)
    report = json.loads((out / "report.json").read_text())
    assert {s: v["images"]["kept"] for s, v in report["sources"].items()} == {"coco_set": 3, "yolo_set": 3}
    assert "WARNING: --class-map" not in result.stderr  # 'face' is the YOLO set's class 1


def test_a_class_map_name_no_set_has_is_said(two_sets, tmp_path: Path) -> None:
    coco, yolo, _, _ = two_sets
    args = ["--add", coco, "--add", yolo, "--class-map", "face=No Mask", "--class-map", "fase=Mask"]
    result = run_script(ROOT / "prepare_data.py", [*args, *merge_args(tmp_path)], tmp_path)
    assert result.code == 0, result.stderr
    assert "WARNING: --class-map fase: no --add set has a class of this name, so it changes nothing" in result.stderr
    assert "--class-map face" not in result.stderr


def test_a_configured_set_by_its_own_names_is_refused_like_an_added_one(two_sets, tmp_path: Path) -> None:
    (tmp_path / "sets").mkdir()
    shutil.move(two_sets[1], tmp_path / "sets" / "yolo_set")  # its classes.txt: mask, face
    config = tmp_path / "sets.yaml"
    config.write_text(
        "sources:\n  theirs:\n    folder: yolo_set\n    format: auto\n    images: .\n    classes: vocabulary\n"
    )
    args = ["--sources", tmp_path / "sets", "--config", config, *merge_args(tmp_path)]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "source 'theirs': class 'face'" in result.stderr and not (tmp_path / "merged").exists()


def test_the_original_project_s_two_sets_are_declared() -> None:
    specs = {s.name: s for s in load_sources(ROOT / "configs/datasets.yaml")}
    assert specs["karm1a"].download == {"kaggle": "karm1a/covid19-face-coverings-at-yolov4-format"}
    assert specs["karm1a"].format == "auto" and specs["karm1a"].by_vocabulary
    assert specs["henrylydecker"].download == {
        "huggingface": "hlydecker/face-masks",
        "kaggle": "henrylydecker/face-masks",
    }
    assert specs["henrylydecker"].classes == {"0": "Mask", "1": "No Mask"}


def test_a_download_takes_the_first_way_whose_credentials_are_here(monkeypatch, tmp_path: Path) -> None:
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "ROBOFLOW_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    spec = SourceSpec("s", "s", "coco", ".", ".", {}, download={"roboflow": {}, "kaggle": "a/b", "huggingface": "c/d"})
    assert chosen_kind(spec) == "huggingface"
    monkeypatch.setenv("KAGGLE_API_TOKEN", "t")
    assert chosen_kind(spec) == "kaggle"
    monkeypatch.setenv("ROBOFLOW_API_KEY", "k")
    assert chosen_kind(spec) == "roboflow"
    with pytest.raises(DownloadError, match="ROBOFLOW_API_KEY"):
        monkeypatch.delenv("ROBOFLOW_API_KEY")
        chosen_kind(SourceSpec("s", "s", "coco", ".", ".", {}, download={"roboflow": {}}))
