"""val.py on the tiny trained run of test_train: the JSON a user's scripts read, and the plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import val
from facemask.audit.candidates import Candidate, write_csv
from facemask.audit.review import candidate_key
from facemask.model.checkpoints import CheckpointError
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]


def test_val_writes_per_class_json_and_plots(trained_run: Path, tiny_data: Path, tmp_path: Path) -> None:
    result = val.run(
        weights=trained_run / "weights" / "best.pt",
        data=tiny_data,
        task="test",
        imgsz=64,
        project=tmp_path,
        name="v",
        save_json=True,
    )
    saved = json.loads((tmp_path / "v" / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved["all"]) == {"images", "instances", "precision", "recall", "mAP50", "mAP50-95"}
    assert set(saved["classes"]) <= {"Mask", "No Mask"}
    assert saved["all"]["images"] == 3 and saved["all"]["instances"] == 6
    assert {"task", "weights", "imgsz", "speed_ms_per_image"} <= set(saved)
    recall = json.loads((tmp_path / "v" / "recall.json").read_text())  # which faces it misses
    assert recall == saved["recall_by_face"] and recall["all"]["faces"] == 6 and recall["conf"] == 0.25
    assert sum(g["faces"] for g in recall["by_size"].values()) == 6
    for plot in ("recall.png", "BoxPR_curve.png", "BoxF1_curve.png", "confusion_matrix.png", "predictions.json"):
        assert (tmp_path / "v" / plot).is_file(), plot


def test_val_missing_weights_is_a_one_line_error(tiny_data: Path, tmp_path: Path) -> None:
    result = run_script(ROOT / "val.py", ["--weights", tmp_path / "no.pt", "--data", tiny_data], tmp_path)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "no such checkpoint" in result.stderr


def test_val_missing_split_is_an_error(tiny_data: Path, trained_run: Path) -> None:
    with pytest.raises(Exception, match=r"data yaml not found"):
        val.run(weights=trained_run / "weights" / "best.pt", data=tiny_data.with_name("nope.yaml"), task="test")
    with pytest.raises(CheckpointError):
        val.run(weights="absent.pt", data=tiny_data)


def test_val_scores_faces_a_reviewer_accepted_as_ignore_regions(
    trained_run: Path, tiny_data: Path, tmp_path: Path, capsys
) -> None:
    root = Path(yaml.safe_load(tiny_data.read_text())["path"])
    image = sorted((root / "images" / "test").iterdir())[0].relative_to(root).as_posix()
    other_split = sorted((root / "images" / "val").iterdir())[0].relative_to(root).as_posix()
    faces = [
        Candidate(image, "missing", 0, 0.9, 0.2, 0.2, 0.1, 0.1),
        Candidate(image, "missing", 1, 0.8, 0.7, 0.7, 0.1, 0.1),
        Candidate(other_split, "missing", 0, 0.9, 0.5, 0.5, 0.1, 0.1),
    ]
    audit = tmp_path / "audit"
    (audit / "gallery").mkdir(parents=True)
    write_csv(faces, audit / "candidates.csv")
    decisions = {candidate_key(f): "accepted" for f in faces} | {candidate_key(faces[1]): "rejected"}
    (audit / "gallery" / "review.json").write_text(json.dumps({"decisions": decisions}))
    weights = trained_run / "weights" / "best.pt"
    result = val.run(
        weights=weights, data=tiny_data, task="test", imgsz=64, project=tmp_path, ignore=audit, plots=False
    )
    assert result["ignore_regions"] == 1  # the accepted face on a test photo only
    assert "1 unlabelled faces ignored" in " ".join(capsys.readouterr().out.split())
    plain = val.run(weights=weights, data=tiny_data, task="test", imgsz=64, project=tmp_path, plots=False)
    assert plain["ignore_regions"] == 0 and plain["by_photos"]["all"]["faces"] == result["by_photos"]["all"]["faces"]


def test_val_scores_detect_switches_tta_and_tiles(trained_run: Path, tiny_data: Path, tmp_path: Path, capsys) -> None:
    """--augment and --tile score what detect.py's switches find: TTA in both passes, tiles in the rows."""
    weights = trained_run / "weights" / "best.pt"
    common = {"weights": weights, "data": tiny_data, "task": "test", "imgsz": 64, "project": tmp_path, "plots": False}
    plain = val.run(**common)
    tiled = val.run(**common, tile=True)
    assert "tiled" in " ".join(capsys.readouterr().out.split())
    assert tiled["tile"] and not tiled["augment"] and tiled["all"] == plain["all"]  # ultralytics' table untiled
    assert tiled["by_photos"]["all"]["faces"] == plain["by_photos"]["all"]["faces"] == 6
    tta = val.run(**common, augment=True)
    assert tta["augment"] and "test-time augmentation" in " ".join(capsys.readouterr().out.split())
    assert set(tta["by_photos"]) == set(plain["by_photos"])
