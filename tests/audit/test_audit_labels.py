"""audit_labels.py: the matching rules on hand-made boxes; the whole run (CSV, gallery, summary per
source, --apply) on a copy of the tiny dataset with planted label errors, seen by a stand-in model that
finds the painted faces by colour, so every candidate is known; and --folds around the shared tiny model
(fold models trained for real only in the slow test)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv
import torch
import yaml

import audit_labels
from facemask.audit.candidates import (
    MAX_WARNINGS,
    AuditResult,
    Candidate,
    ImageAudit,
    class_ids,
    find_candidates,
    report_skipped,
    summarise,
    training_names,
)
from facemask.audit.gallery import write_pages
from facemask.data.dataset_files import source_of
from facemask.inference import detector as detector_module
from facemask.inference.detector import Prediction
from facemask.model.checkpoints import load_model
from facemask.owned_dirs import OutputDirError
from tests.conftest import MASK_RGB, NO_MASK_RGB


def dets(boxes, classes, conf=None) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, float).reshape(-1, 4),
        class_id=np.array(classes, int),
        confidence=None if conf is None else np.array(conf, float),
    )


def test_matching_rules_on_hand_made_boxes() -> None:
    labels = dets(
        [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10], [80, 0, 90, 10], [100, 0, 110, 10]],
        [0, 1, 0, 0, 1, 0],
    )
    detections = dets(
        [
            [0, 0, 10, 10],  # label 0, same class: agrees
            [20, 0, 30, 10],  # label 1, same class: agrees
            [60, 0, 70, 10],  # label 3 called No Mask, confidently: wrong_class
            [80, 0, 90, 10],  # label 4, other class ...
            [80, 0, 90, 10],  # ... and its own class too: not wrong_class
            [101, 0, 111, 10],  # label 5 at IoU 0.82, but only at 0.1: found, yet not confident
            [40, 0, 50, 10],  # label 2 at 0.03, under the 0.05 floor: label 2 is unfound
            [200, 0, 220, 20],  # no label near: missing (Mask) ...
            [201, 0, 221, 20],  # ... and the same face as No Mask: one candidate only
            [4, 0, 14, 10],  # IoU 0.43 with label 0: a labelled face, not missing
            [300, 0, 310, 10],  # no label near, but not confident: nothing
        ],
        [0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1],
        [0.9, 0.9, 0.8, 0.9, 0.7, 0.1, 0.03, 0.95, 0.6, 0.9, 0.3],
    )
    found = find_candidates(labels, detections, conf_thres=0.5)
    assert found["missing"].xyxy.tolist() == [[200, 0, 220, 20]] and found["missing"].class_id.tolist() == [0]
    assert found["wrong_class"].xyxy.tolist() == [[60, 0, 70, 10]]
    assert found["wrong_class"].class_id.tolist() == [1] and found["wrong_class"].confidence.tolist() == [0.8]
    assert found["unfound"].xyxy.tolist() == [[40, 0, 50, 10]] and found["unfound"].class_id.tolist() == [0]

    assert len(find_candidates(labels, sv.Detections.empty(), 0.5)["unfound"]) == len(labels)
    alone = find_candidates(sv.Detections.empty(), dets([[0, 0, 5, 5]], [1], [0.9]), 0.5)
    assert len(alone["missing"]) == 1 and not len(alone["wrong_class"]) and not len(alone["unfound"])


def test_sources_come_from_the_merge_prefixes() -> None:
    sources = ["sergiovirahonda", "andrewmvd", "aditya276"]
    assert source_of("images/train/aditya276_x_1a2b3c4d.jpg", sources) == "aditya276"
    assert source_of("images/val/my_photo.jpg", sources) == "all"
    audits = [
        ImageAudit(
            "a/andrewmvd_1_ab.jpg", 3, [Candidate("a/andrewmvd_1_ab.jpg", "missing", 0, 0.9, 0.5, 0.5, 0.1, 0.1)]
        ),
        ImageAudit("a/andrewmvd_2_cd.jpg", 2),
        ImageAudit("a/other.jpg", 1),
    ]
    summary = summarise(audits, sources)
    assert list(summary) == ["all", "andrewmvd", "total"]
    assert summary["andrewmvd"] == {"images": 2, "labels": 5, "missing": 1, "wrong_class": 0, "unfound": 0}
    assert summary["total"]["images"] == 3 and summary["total"]["labels"] == 6


def test_gallery_pages_link_each_other(tmp_path: Path) -> None:
    candidates = [Candidate(f"i{i}.jpg", ("missing", "unfound")[i % 2], 0, None, 0.5, 0.5, 0.2, 0.2) for i in range(5)]
    assert write_pages(candidates, {0: "Mask"}, tmp_path, per_page=2) == 3
    pages = [(tmp_path / n).read_text() for n in ("index.html", "page2.html", "page3.html")]
    assert [p.count("<figure>") for p in pages] == [2, 2, 1]
    assert 'href="page2.html"' in pages[0] and 'href="index.html"' in pages[1] and 'href="page3.html"' in pages[1]
    assert pages[0].count("<b>missing</b>") == 2  # review order: every missing before any unfound


# --- the whole run on planted errors -------------------------------------------------------------------


def colour_faces(image: np.ndarray) -> sv.Detections:
    """A perfect model for the tiny dataset: its faces are solid green (Mask) and red (No Mask)."""
    boxes, classes = [], []
    for cls, rgb in ((0, MASK_RGB), (1, NO_MASK_RGB)):
        near = np.abs(image.astype(int) - rgb[::-1]).max(axis=2) < 50
        _, _, stats, _ = cv2.connectedComponentsWithStats(near.astype(np.uint8))
        for x, y, w, h, area in stats[1:]:
            if area >= 30:
                boxes.append([x, y, x + w, y + h])
                classes.append(cls)
    return dets(boxes, classes, [0.9] * len(classes))


@pytest.fixture
def colour_model(monkeypatch):
    monkeypatch.setattr(
        detector_module.Detector, "__call__", lambda self, image, options=None: Prediction(colour_faces(image))
    )


@pytest.fixture
def weights(trained_run: Path) -> Path:
    return trained_run / "weights" / "best.pt"


@dataclass
class Planted:
    """A copy of the tiny dataset with three label errors planted, and where they are."""

    data: Path
    root: Path
    missing: str  # image whose No Mask face lost its box ...
    deleted: str  # ... that box's label line
    wrong_class: str  # image whose Mask face is labelled No Mask
    unfound: str  # val image with a box where there is no face


def image_of(label: Path, root: Path) -> str:
    split = label.parent.name
    return next((root / "images" / split).glob(f"{label.stem}.*")).relative_to(root).as_posix()


@pytest.fixture
def planted(tiny_data: Path, tmp_path: Path) -> Planted:
    root = tmp_path / "ds"
    shutil.copytree(yaml.safe_load(tiny_data.read_text())["path"], root)
    a, b = sorted((root / "labels" / "train").glob("*.txt"))[:2]
    a_lines, b_lines = a.read_text().splitlines(), b.read_text().splitlines()
    deleted = next(ln for ln in a_lines if ln.startswith("1 "))
    a.write_text("".join(f"{ln}\n" for ln in a_lines if ln != deleted))
    b.write_text("".join(f"1 {ln[2:]}\n" if ln.startswith("0 ") else f"{ln}\n" for ln in b_lines))
    c = sorted((root / "labels" / "val").glob("*.txt"))[0]
    c.write_text(c.read_text() + "0 0.900000 0.100000 0.100000 0.100000\n")  # the top-right corner is background
    return Planted(root / "data.yaml", root, image_of(a, root), deleted, image_of(b, root), image_of(c, root))


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every file's content hash and inode, to tell an edited or replaced file."""
    return {
        p.relative_to(root).as_posix(): (hashlib.sha1(p.read_bytes()).hexdigest(), p.stat().st_ino)
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".cache")
    }


def audit(planted: Planted, weights: Path, tmp_path: Path, **kw) -> AuditResult:
    return audit_labels.run(weights=weights, data=planted.data, imgsz=64, project=tmp_path / "runs", **kw)


def test_audit_finds_the_planted_errors_and_writes_every_output(
    planted, weights, colour_model, tiny_data, tmp_path, capsys
):
    before = tree(planted.root)
    result = audit(planted, weights, tmp_path, apply="missing=add", out=tmp_path / "fixed")

    with (result.save_dir / "candidates.csv").open(newline="") as f:
        assert f.readline().strip() == "image,kind,cls,conf,cx,cy,w,h,source"
        f.seek(0)
        rows = list(csv.DictReader(f))
    assert {(r["image"], r["kind"], r["cls"]) for r in rows} == {
        (planted.missing, "missing", "1"),
        (planted.wrong_class, "wrong_class", "0"),
        (planted.unfound, "unfound", "0"),
    }
    missing = next(r for r in rows if r["kind"] == "missing")
    found_box = [float(missing[k]) for k in ("cx", "cy", "w", "h")]
    assert np.allclose(found_box, [float(v) for v in planted.deleted.split()[1:]], atol=0.02)
    assert next(r for r in rows if r["kind"] == "unfound")["conf"] == ""

    err = capsys.readouterr().err  # the tiny model was trained on these very photos (same names)
    trained = len(list((Path(yaml.safe_load(tiny_data.read_text())["path"]) / "images" / "train").iterdir()))
    assert f"WARNING: {trained} of the 40 audited photos were in the training data" in err and "--folds" in err

    summary = json.loads((result.save_dir / "summary.json").read_text())
    assert set(summary["sources"]) == {"voc", "nextto", "split", "total"}
    assert summary["sources"]["total"] == {"images": 40, "labels": 80, "missing": 1, "wrong_class": 1, "unfound": 1}
    assert summary["seen_in_training"] == trained and summary["apply"]["boxes"] == 1
    applied = summary["apply"]  # the missing face's photo: no other candidate is applied without a review
    assert applied["photos_changed"] == applied["images_changed"] == 1 and planted.missing.startswith("images/train")
    assert any(not r["image"].startswith("images/train") for r in rows)  # a candidate in val or test: unchanged

    gallery = result.save_dir / "gallery"
    assert (gallery / "index.html").read_text().count("<figure>") == 3 and len(list((gallery / "crops").iterdir())) == 3
    assert cv2.imread(str(gallery / "overview.png")).shape[1] == 8 * 160

    fixed, copied = tmp_path / "fixed", tree(tmp_path / "fixed")
    label = fixed / Path(planted.missing.replace("images/", "labels/", 1)).with_suffix(".txt")
    cls, *box = label.read_text().splitlines()[-1].split()
    assert cls == "1" and np.allclose([float(v) for v in box], found_box, atol=1e-5)
    unfound_label = Path(planted.unfound.replace("images/", "labels/", 1)).with_suffix(".txt").as_posix()
    assert copied[unfound_label] == before[unfound_label]  # val keeps its labels, stray box and all: a hard link
    assert copied[planted.missing] == before[planted.missing]
    assert yaml.safe_load((fixed / "data.yaml").read_text()) == {
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": {0: "Mask", 1: "No Mask"},
    }
    assert tree(planted.root) == before  # the input is never edited


def test_apply_ignore_greys_the_missing_face_and_none_links_everything(planted, weights, colour_model, tmp_path):
    before = tree(planted.root)
    audit(planted, weights, tmp_path, apply="missing=ignore", out=tmp_path / "grey")
    image = cv2.imread(str(tmp_path / "grey" / planted.missing))
    h, w = image.shape[:2]
    cx, cy, bw, bh = (float(v) for v in planted.deleted.split()[1:])
    face = image[int((cy - bh / 4) * h) : int((cy + bh / 4) * h), int((cx - bw / 4) * w) : int((cx + bw / 4) * w)]
    assert np.abs(face.astype(int) - 114).max() < 12  # grey, give or take JPEG
    assert len(colour_faces(image)) == 1  # the labelled Mask face is untouched
    assert tree(planted.root) == before

    audit(planted, weights, tmp_path, apply="missing=none", out=tmp_path / "same")
    same = tree(tmp_path / "same")
    assert all(same[k] == v for k, v in before.items() if k.startswith(("images/", "labels/")))

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own files")
    with pytest.raises(OutputDirError):
        audit(planted, weights, tmp_path, apply="missing=add", out=mine, name="refused", exist_ok=True)
    assert not (tmp_path / "runs" / "refused").exists()  # refused before any inference
    with pytest.raises(OutputDirError):
        audit(planted, weights, tmp_path, apply="missing=add", out=tmp_path / "grey")  # ours, but no --exist-ok
    audit(planted, weights, tmp_path, apply="missing=add", out=tmp_path / "grey", exist_ok=True)
    assert (
        len(
            (tmp_path / "grey" / planted.missing.replace("images/", "labels/", 1))
            .with_suffix(".txt")
            .read_text()
            .splitlines()
        )
        == 2
    )


def test_a_bad_label_skips_its_image_and_the_audit_goes_on(planted, weights, colour_model, tmp_path, capsys) -> None:
    """Its whole image, as ultralytics leaves it out of training: audited without its bad line, the
    face of that line would come back as a 'missing' candidate, a second report of one mistake."""
    label = (planted.root / planted.wrong_class.replace("images/", "labels/", 1)).with_suffix(".txt")
    lineno = len(label.read_text().splitlines()) + 1
    with label.open("a") as f:
        f.write("1 nan 0.5 0.2 0.2\n")
    result = audit(planted, weights, tmp_path)
    assert {(c.image, c.kind) for c in result.candidates} == {
        (planted.missing, "missing"),
        (planted.unfound, "unfound"),
    }
    why = f"bad label ({label.name}:{lineno}: cx is nan, not a fraction of the image's size from 0 to 1)"
    assert result.summary["skipped"] == {"bad label": 1} and result.summary["skipped_images"] == {
        planted.wrong_class: why
    }
    assert result.summary["sources"]["total"]["images"] == 39
    out, err = capsys.readouterr()
    assert [ln for ln in err.splitlines() if "skipped" in ln] == [
        f"WARNING: skipped {planted.root / planted.wrong_class}: {why}"
    ]
    assert "Skipped 1 of 40 images, named above and in summary.json: 1 bad label" in out


def test_skipped_images_are_named_up_to_a_limit_and_all_counted(tmp_path, capsys) -> None:
    audits = [ImageAudit(f"images/train/{i}.jpg", skipped=f"bad label ({i}.txt:1: class 7 ...)") for i in range(25)]
    audits += [
        ImageAudit("images/val/x.jpg", skipped="unreadable image (truncated)"),
        ImageAudit("images/val/y.jpg", 2),
    ]
    counts, named = report_skipped(audits, tmp_path)
    assert counts == {"bad label": 25, "unreadable image": 1} and len(named) == 26 and "images/val/y.jpg" not in named
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_WARNINGS + 1 and lines[-1] == "WARNING: 6 more skipped; summary.json lists them"
    assert summarise(audits, [])["total"]["images"] == 1  # only the audited one
    assert class_ids({"names": ["Mask", "No Mask"]}) == class_ids({"names": {0: "Mask", 1: "No Mask"}}) == ["0", "1"]


def test_training_data_is_found_from_the_checkpoint_record(tiny_data: Path, tmp_path: Path) -> None:
    root = Path(yaml.safe_load(tiny_data.read_text())["path"])
    names = {p.name for p in (root / "images" / "train").iterdir()}
    assert training_names({"data": str(tiny_data)}) == names
    gone = tmp_path / "ds.yaml"  # recorded as a yaml that is gone, beside a folder holding data.yaml
    os.symlink(root, tmp_path / "ds")
    assert training_names({"data": str(gone)}) == names
    assert training_names({"data": str(tmp_path / "nowhere.yaml")}) is None and training_names({}) is None


def audit_with_folds(weights: Path, tiny_data: Path, tmp_path: Path) -> AuditResult:
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({"workers": 0, "seed": 0}))
    return audit_labels.run(
        weights=weights,
        data=tiny_data,
        split=["train"],
        imgsz=64,
        device="cpu",
        project=tmp_path / "runs",
        folds=2,
        fold_epochs=1,
        fold_batch=8,
        fold_config=config,
    )


def assert_each_photo_audited_by_a_model_that_did_not_see_it(result: AuditResult, tiny_data: Path) -> None:
    train = {p.name for p in (Path(yaml.safe_load(tiny_data.read_text())["path"]) / "images" / "train").iterdir()}
    assert result.summary["seen_in_training"] == result.summary["audited_by_fold_models"] == len(train)
    held_out = []
    for k in (1, 2):
        fold = result.save_dir / "folds" / f"fold{k}"
        seen = training_names(load_model(fold / "weights" / "last.pt").ckpt["train_args"])
        held = {p.name for p in (result.save_dir / "folds" / "data" / f"fold{k}" / "images" / "val").iterdir()}
        assert seen and held and not seen & held and seen | held == train
        held_out.append(held)
    assert not held_out[0] & held_out[1]
    assert (result.save_dir / "candidates.csv").read_text().startswith("image,kind,cls,conf,cx,cy,w,h,source\n")


@pytest.fixture
def audited(weights: Path, tmp_path: Path) -> Path:
    """The shared tiny model as a run that was never interrupted records itself (the shared run was
    resumed, so its train_args name its own last.pt as the model it started from)."""
    ckpt = torch.load(weights, map_location="cpu", weights_only=False)
    ckpt["train_args"] = {**ckpt["train_args"], "model": "yolov5n.yaml", "resume": False}
    torch.save(ckpt, tmp_path / "audited.pt")
    return tmp_path / "audited.pt"


def test_folds_audit_each_photo_with_a_model_that_did_not_see_it(
    audited, tiny_data, tmp_path, monkeypatch, capsys
) -> None:
    """The fold models are the shared tiny model, saved as each fold's training would save it (its
    train_args naming the fold's dataset): what --folds does around the training, with no training.
    test_folds_train_real_fold_models (slow) trains them."""
    from facemask.audit import folds

    calls = []

    def fold_training(**kw) -> Path:
        calls.append(kw)
        ckpt = torch.load(audited, map_location="cpu", weights_only=False)
        ckpt["train_args"] = {**ckpt["train_args"], "data": kw["data"], "epochs": kw["epochs"]}
        run = Path(kw["project"]) / kw["name"]
        (run / "weights").mkdir(parents=True)
        torch.save(ckpt, run / "weights" / "last.pt")
        return run

    monkeypatch.setattr(folds, "train", fold_training)
    result = audit_with_folds(audited, tiny_data, tmp_path)
    assert "WARNING" not in capsys.readouterr().err
    assert_each_photo_audited_by_a_model_that_did_not_see_it(result, tiny_data)
    # from what the audited model started from (a yaml: from scratch), never from the audited weights
    assert [(c["name"], c.get("cfg"), c["epochs"], c["batch"], c["imgsz"], c["device"]) for c in calls] == [
        ("fold1", "yolov5n.yaml", 1, 8, 64, "cpu"),
        ("fold2", "yolov5n.yaml", 1, 8, 64, "cpu"),
    ]
    assert all(
        c["config"] == tmp_path / "tiny.yaml" and c["wandb"] == "disabled" and c["val"] is False and "weights" not in c
        for c in calls
    )


@pytest.mark.slow
def test_folds_train_real_fold_models(audited, tiny_data, tmp_path, capsys) -> None:
    result = audit_with_folds(audited, tiny_data, tmp_path)
    assert "WARNING" not in capsys.readouterr().err
    assert_each_photo_audited_by_a_model_that_did_not_see_it(result, tiny_data)


def test_folds_of_a_resumed_run_do_not_start_from_its_own_weights(weights) -> None:
    from facemask.audit.candidates import AuditError
    from facemask.audit.folds import start_point

    try:
        start = start_point(load_model(weights).ckpt["train_args"], None)
    except AuditError:
        return  # asking for --fold-weights is a fix too
    assert not Path(start).resolve().is_relative_to(weights.resolve().parents[1])  # not from the audited run
