"""prelabel.py and the review loop: the model's boxes written for a labelling tool, edited as a reviewer
does (a box deleted, a box added, a class changed) and saved as the tool exports them, then merged with
`prepare_data.py --add`: the merged labels are the reviewed ones, box for box. Photos: real ones from
../shared/datasets; model: the suite's tiny one (tests/conftest.py), at a low threshold so it finds boxes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from facemask.data.formats.labelstudio import region
from facemask.data.labels import read_voc, read_yolo
from facemask.images import safe_name
from tests.conftest import SHARED_DATASETS
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = SHARED_DATASETS / "andrewmvd-face-mask-detection" / "images"
NAMES = ["Mask", "No Mask"]
ADDED = (NAMES[0], 6.0, 8.0, 60.0, 70.0)  # the face the model missed, drawn by the reviewer

pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason="needs ../shared/datasets")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos" / "entrance"
    folder.mkdir(parents=True)
    for photo in sorted(PHOTOS.glob("*.jpg"))[:3]:
        shutil.copy(photo, folder / f"photo{len(list(folder.iterdir()))}.jpg")
    return tmp_path / "photos"


def prelabel(photos: Path, fmt: str, out: Path, weights: Path) -> None:
    args = [
        "--source",
        photos,
        "--format",
        fmt,
        "--out",
        out,
        "--weights",
        weights,
        "--conf-thres",
        "0.001",
        "--max-det",
        "6",
        "--no-agnostic-nms",  # the tiny model's boxes of both classes on one face: boxes for the reviewer to delete
    ]
    result = run_script(ROOT / "prelabel.py", args, out.parent)
    assert result.code == 0, result.stderr
    assert f"-> {out}" in result.stdout


def review(boxes: list[tuple], size: tuple[int, int]) -> list[tuple]:
    """What the reviewer makes of the model's boxes: the largest two kept (the rest deleted), the class of
    the first changed, and a missed face added. Boxes are (class, x1, y1, x2, y2), clipped to the photo."""
    w, h = size
    inside = [(c, max(0.0, x1), max(0.0, y1), min(w, x2), min(h, y2)) for c, x1, y1, x2, y2 in boxes]
    kept = sorted(inside, key=lambda b: -(b[3] - b[1]) * (b[4] - b[2]))[:2]
    assert kept and len(kept) < len(boxes), "the model should find boxes to delete"
    first = kept[0]
    return [(NAMES[1 - NAMES.index(first[0])], *first[1:]), *kept[1:], ADDED]


def merged(out: Path, source: str, rel: str) -> list[tuple]:
    label = next(out.glob(f"labels/*/{safe_name(source, rel)}.txt"))
    w, h = Image.open(next(out.glob(f"images/*/{safe_name(source, rel)}.*"))).size
    y = read_yolo(label)
    return sorted(
        (NAMES[int(k)], x1 * w, y1 * h, x2 * w, y2 * h) for k, (x1, y1, x2, y2) in zip(y.keys, y.boxes, strict=True)
    )


def merge_back(folder: Path, tmp_path: Path, expected: dict[str, list[tuple]], tol: float) -> None:
    """prepare_data.py --add the reviewed folder: every photo's merged boxes are the reviewed ones."""
    out = tmp_path / "merged"
    args = [
        "--add",
        folder,
        "--out",
        out,
        "--data",
        tmp_path / "data.yaml",
        "--keep-split",
        "none",
        "--no-rotate",
        "--workers",
        "1",
    ]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 0, result.stderr
    assert len(expected) == 3
    for rel, boxes in expected.items():
        got = merged(out, folder.name, rel)
        assert [g[0] for g in got] == sorted(b[0] for b in boxes), rel
        flat = [v for b in sorted(boxes) for v in b[1:]]
        assert [v for g in got for v in g[1:]] == pytest.approx(flat, abs=tol), rel


def test_label_studio_round_trip(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "ls"
    prelabel(photos, "labelstudio", out, trained_run / "weights" / "best.pt")
    tasks = json.loads((out / "tasks.json").read_text())
    assert (out / "label_config.xml").is_file() and len(tasks) == 3
    export, expected = [], {}
    for i, task in enumerate(tasks, 1):
        rel = task["data"]["image"].split("?d=", 1)[1].split("/", 1)[1]  # ls/entrance/x.jpg -> entrance/x.jpg
        result = task["predictions"][0]["result"]
        size = (result[0]["original_width"], result[0]["original_height"])
        assert Image.open(out / rel).size == size
        boxes = [(r["value"]["rectanglelabels"][0], *_pixels(r["value"], size)) for r in result]
        expected[rel] = reviewed = review(boxes, size)
        regions = [{"id": f"r{i}{j}", "origin": "manual", **region(c, b, size)} for j, (c, *b) in enumerate(reviewed)]
        # As Label Studio exports a reviewed task; one uploaded through its browser (prefixed file name).
        image = f"/data/upload/3/1a2b3c4d-{Path(rel).name}" if i == 1 else task["data"]["image"]
        export.append(
            {
                "id": i,
                "data": {"image": image},
                "predictions": [i],
                "annotations": [
                    {
                        "id": 10 + i,
                        "completed_by": 1,
                        "result": regions,
                        "was_cancelled": False,
                        "ground_truth": False,
                        "created_at": "2024-05-01T10:00:00Z",
                        "updated_at": "2024-05-01T10:01:00Z",
                        "lead_time": 12.5,
                        "task": i,
                        "project": 3,
                        "parent_prediction": i,
                    }
                ],
            }
        )
    (out / "project-3-at-2024-05-01-10-02-5f1e2d3c.json").write_text(json.dumps(export))
    merge_back(out, tmp_path, expected, tol=0.01)


def test_label_studio_pre_labels_nobody_reviewed_are_refused_before_the_merge(
    photos: Path, tmp_path: Path, trained_run: Path
) -> None:
    """Step 3 skipped: tasks.json holds only predictions. One line says what to do, and nothing is written."""
    out = tmp_path / "ls"
    prelabel(photos, "labelstudio", out, trained_run / "weights" / "best.pt")
    args = ["--add", out, "--out", tmp_path / "merged", "--data", tmp_path / "data.yaml", "--keep-split", "none"]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "no photo is labelled" in result.stderr and "export the project as JSON into this folder" in result.stderr
    assert not (tmp_path / "merged").exists() and not (tmp_path / "data.yaml").exists()


@pytest.mark.parametrize("fmt", ["cvat", "voc", "yolo"])
def test_pre_labels_nobody_changed_are_refused_before_the_merge(
    photos: Path, tmp_path: Path, trained_run: Path, fmt: str
) -> None:
    """The formats reviewed in place: every label file as prelabel.py wrote it means nobody reviewed."""
    out = tmp_path / fmt
    prelabel(photos, fmt, out, trained_run / "weights" / "best.pt")
    args = ["--add", out, "--out", tmp_path / "merged", "--data", tmp_path / "data.yaml", "--keep-split", "none"]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "every label is as prelabel.py wrote it" in result.stderr and "delete .prelabels.json" in result.stderr
    assert not (tmp_path / "merged").exists() and not (tmp_path / "data.yaml").exists()
    (out / ".prelabels.json").unlink()  # the reviewer found every box right
    assert run_script(ROOT / "prepare_data.py", args, tmp_path).code == 0


def test_a_partly_reviewed_folder_is_merged_with_a_warning(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "voc"
    prelabel(photos, "voc", out, trained_run / "weights" / "best.pt")
    first = sorted(out.rglob("*.xml"))[0]
    tree = ET.parse(first)
    for obj in tree.getroot().findall("object")[1:]:  # the reviewer deletes all but one box, and saves
        tree.getroot().remove(obj)
    tree.write(first)
    args = ["--add", out, "--out", tmp_path / "merged", "--data", tmp_path / "data.yaml", "--keep-split", "none"]
    result = run_script(ROOT / "prepare_data.py", args, tmp_path)
    assert result.code == 0, result.stderr
    assert "WARNING: --add" in result.stderr and "2 of its 3 label files are as prelabel.py wrote them" in result.stderr


def _pixels(value: dict, size: tuple[int, int]) -> tuple[float, ...]:
    w, h = size
    x, y = value["x"] * w / 100, value["y"] * h / 100
    return x, y, x + value["width"] * w / 100, y + value["height"] * h / 100


def test_cvat_round_trip(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "cvat"
    prelabel(photos, "cvat", out, trained_run / "weights" / "best.pt")
    tree = ET.parse(out / "annotations.xml")
    expected = {}
    for image in tree.getroot().iter("image"):
        size = (int(image.get("width")), int(image.get("height")))
        boxes = [(b.get("label"), *(float(b.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))) for b in image.iter("box")]
        expected[image.get("name")] = reviewed = review(boxes, size)
        for box in list(image):
            image.remove(box)
        for c, x1, y1, x2, y2 in reviewed:  # as CVAT exports a box a person drew or checked
            ET.SubElement(
                image,
                "box",
                label=c,
                source="manual",
                occluded="0",
                xtl=f"{x1:.2f}",
                ytl=f"{y1:.2f}",
                xbr=f"{x2:.2f}",
                ybr=f"{y2:.2f}",
                z_order="0",
            )
    tree.write(out / "annotations.xml", encoding="utf-8", xml_declaration=True)
    merge_back(out, tmp_path, expected, tol=0.01)


def test_voc_round_trip(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "voc"
    prelabel(photos, "voc", out, trained_run / "weights" / "best.pt")
    expected = {}
    for xml in sorted(out.rglob("*.xml")):
        rel = xml.relative_to(out).with_suffix(".jpg").as_posix()
        label = read_voc(xml)
        assert label.size == Image.open(out / rel).size
        expected[rel] = reviewed = review([(k, *b) for k, b in zip(label.keys, label.boxes, strict=True)], label.size)
        tree = ET.parse(xml)  # as LabelImg saves it: objects removed, renamed, drawn
        root = tree.getroot()
        for obj in root.findall("object"):
            root.remove(obj)
        for c, *box in reviewed:
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = c
            bndbox = ET.SubElement(obj, "bndbox")
            for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
                ET.SubElement(bndbox, tag).text = str(round(v))
        tree.write(xml)
        expected[rel] = [(c, *(round(v) for v in box)) for c, *box in reviewed]
    merge_back(out, tmp_path, expected, tol=0.01)


def test_yolo_prelabels_open_as_a_yolo_set(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "yolo"
    prelabel(photos, "yolo", out, trained_run / "weights" / "best.pt")
    assert (out / "classes.txt").read_text().split() == ["Mask", "No", "Mask"]
    labels = sorted(out.rglob("*.txt"))
    assert [p.relative_to(out).as_posix() for p in labels if p.name != "classes.txt"] == [
        f"entrance/photo{i}.txt" for i in range(3)
    ]


def test_an_existing_out_is_never_replaced(photos: Path, tmp_path: Path, trained_run: Path) -> None:
    out = tmp_path / "reviewed"
    (out).mkdir()
    (out / "mine.xml").write_text("<annotation/>")
    args = ["--source", photos, "--format", "voc", "--out", out, "--weights", trained_run / "weights" / "best.pt"]
    result = run_script(ROOT / "prelabel.py", args, tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "already exists" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.xml"]
