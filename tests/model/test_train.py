"""train.py on a tiny synthetic dataset: the shared 2-epoch run of conftest.tiny_run (YOLOv5n from yaml,
64 px, W&B offline), interrupted after its first epoch and resumed; a run killed while it writes its
checkpoints; and the errors before any training."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from PIL import Image

import train
from facemask.data.data_yaml import DatasetError
from facemask.model import checkpoints
from facemask.model.checkpoints import CheckpointError
from facemask.model.training import _options, _resumed, ultralytics_args
from tests.conftest import TINY_TRAIN as TINY
from tests.conftest import TinyRun, mid_run, results_epochs
from tests.scripts import run_script, start_script
from tests.wandb_records import artifacts, history, run_file, run_files

ROOT = Path(__file__).resolve().parents[2]


def test_training_writes_weights_metrics_and_a_real_wandb_run(tiny_run: TinyRun) -> None:
    run = tiny_run.dir
    assert (run / "weights" / "best.pt").is_file() and (run / "weights" / "last.pt").is_file()
    assert results_epochs(run / "results.csv") == [1, 2]
    sessions = run_files(run)  # the run was interrupted and resumed: one W&B run, two sessions
    assert len(sessions) == 2 and all((run / "wandb_run_id.txt").read_text() in f.name for f in sessions)
    rows = [r for f in sessions for r in history(f)]
    per_epoch = [r for r in rows if "metrics/mAP50(B)" in r]
    assert [r["epoch"] for r in per_epoch] == [1, 2]
    assert {"train/box_loss", "train/cls_loss", "metrics/mAP50-95(B)", "metrics/precision(B)"} <= set(per_epoch[0])
    logged = {k for r in rows for k in r}
    for prefix in (
        "curves/Precision-Recall(B)",
        "confusion_matrix/",
        "predictions/",
        "dataset/splits/",
        "plots/BoxPR_curve",
        "plots/confusion_matrix",
    ):
        assert any(k.startswith(prefix) for k in logged), prefix
    types = {t for f in sessions for t, _ in artifacts(f)}
    assert {"model", "dataset-report"} <= types


def test_resume_continues_an_interrupted_run(tiny_run: TinyRun) -> None:
    """The shared run was stopped as epoch 2 began (conftest.tiny_run) and resumed from its last.pt."""
    run_dir = tiny_run.dir
    assert tiny_run.epochs_when_interrupted == [1]
    assert tiny_run.resumed_into == run_dir
    assert results_epochs(run_dir / "results.csv") == [1, 2]
    assert (run_dir / "wandb_run_id.txt").read_text() == tiny_run.run_id_when_interrupted  # the same W&B run goes on
    assert [r["epoch"] for r in history(run_file(run_dir)) if "metrics/mAP50(B)" in r] == [2]


def test_a_resumed_run_goes_on_with_corrected_labels_and_a_new_hyperparameter(
    tiny_run: TinyRun, tiny_data: Path, tmp_path: Path, capsys
) -> None:
    """After an audit, the epochs left train on its corrected copy (--data) and, say, a class weight (--hyp):
    ultralytics resumes with the arguments the checkpoint saved, so they go into a copy of it."""
    last = mid_run(tiny_run.dir, tmp_path)
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(tiny_data.read_text())
    before = last.read_bytes()
    _, data, args = _resumed(last, {"project": str(tmp_path)}, {"data": str(fixed), "cls_pw": 0.5})
    resumed = Path(args["resume"])
    assert resumed == tmp_path / "run" / "weights" / "resumed.pt" and last.read_bytes() == before
    saved = torch.load(resumed, map_location="cpu", weights_only=False)
    assert saved["train_args"]["cls_pw"] == 0.5 and Path(saved["train_args"]["data"]) == data
    assert data.read_text() == tiny_data.read_text() and saved["optimizer"] is not None
    out = capsys.readouterr().out
    assert "--resume: cls_pw 0.0 -> 0.5 for epochs 2 to 2" in out and f"-> {data} for epochs 2 to 2" in out


def test_resuming_a_finished_run_says_so_in_one_line(tiny_run: TinyRun) -> None:
    """Not ultralytics' traceback ("nothing to resume", with a `yolo` command): what train.py can do instead."""
    with pytest.raises(CheckpointError, match=r"finished run \(2 epochs\): nothing to resume.*--weights"):
        train.run(resume=tiny_run.dir / "weights" / "last.pt")


def whole_checkpoints(weights: Path) -> set[str]:
    """The checkpoints in `weights`, each loaded by torch.load; besides them only temporary files (.*.tmp)."""
    names = {p.name for p in weights.iterdir()} if weights.is_dir() else set()
    checkpoints = {n for n in names if not n.startswith(".")}
    assert all(n.endswith(".tmp") for n in names - checkpoints), names
    for name in checkpoints:
        assert "model" in torch.load(weights / name, map_location="cpu", weights_only=False), name
    return checkpoints


def test_a_run_killed_while_it_writes_a_checkpoint_leaves_each_whole_or_absent(tiny_data: Path, tmp_path: Path) -> None:
    """One epoch writes last.pt and best.pt, then rewrites both without the optimizer. The run stops halfway
    through each write (tests/model/paused_training.py): the folder then is what a kill would leave, and at the
    last write it is killed (-9). Written in place, best.pt was left cut off beside a whole last.pt."""
    process = start_script(ROOT / "tests" / "model" / "paused_training.py", [tiny_data, tmp_path / "runs"], tmp_path)
    weights, paused = tmp_path / "runs" / "t" / "weights", tmp_path / "paused"
    expected = [set(), {"last.pt"}, {"last.pt", "best.pt"}, {"last.pt", "best.pt"}]  # before each write
    written = []
    for before in expected:
        deadline = time.monotonic() + 120
        while not paused.exists():
            assert process.poll() is None and time.monotonic() < deadline, process.poll()
            time.sleep(0.01)
        written.append(Path(paused.read_text()).name)
        assert whole_checkpoints(weights) == before
        if len(written) < len(expected):
            paused.unlink()
    process.kill()
    assert process.wait(30) == -9
    assert [n.split(".")[1] for n in written] == ["last", "best", "last", "best"]  # a temporary file each time
    assert whole_checkpoints(weights) == {"last.pt", "best.pt"}


def test_missing_data_yaml_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_script(ROOT / "train.py", ["--data", tmp_path / "nope.yaml", "--cfg", "yolov5n.yaml"], tmp_path)
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and "data yaml not found" in result.stderr


def test_an_empty_train_or_val_split_is_an_error_before_training(tmp_path: Path) -> None:
    for split in ("train", "val"):
        (tmp_path / "ds" / "images" / split).mkdir(parents=True)
    (tmp_path / "ds.yaml").write_text("path: ds\ntrain: images/train\nval: images/val\nnames: {0: Mask, 1: No Mask}\n")
    with pytest.raises(DatasetError, match=r"the train split of .* is empty"):
        train.run(data=str(tmp_path / "ds.yaml"), **TINY)
    Image.new("RGB", (64, 64)).save(tmp_path / "ds" / "images" / "train" / "a.jpg")
    # a merge of a few photos can leave val empty; ultralytics would stop at its first epoch's validation
    with pytest.raises(DatasetError, match=r"the val split of .* is empty .*prepare_data\.py --split"):
        train.run(data=str(tmp_path / "ds.yaml"), **TINY)


def test_missing_checkpoint_offline_names_the_alternatives(tiny_data: Path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoints, "reachable", lambda host: False)
    monkeypatch.chdir(tiny_data.parent)
    with pytest.raises(CheckpointError, match=r"cannot be downloaded.*yolov5nu_coco_backbone\.pt.*--cfg"):
        train.run(data=str(tiny_data), weights="yolov5s.pt", cfg=None, wandb="disabled")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        train.run(data=str(tiny_data), weights="missing.pt", wandb="disabled")


def test_yolov5_names_map_to_ultralytics_checkpoints(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoints, "reachable", lambda host: True)
    monkeypatch.chdir(tmp_path)
    assert checkpoints.resolve_weights("yolov5s.pt") == "yolov5su.pt"  # ultralytics downloads it
    (tmp_path / "yolov5su.pt").write_bytes(b"x")
    assert checkpoints.resolve_weights("yolov5s.pt") == "yolov5su.pt" and Path("yolov5su.pt").is_file()


def test_multi_gpu_device_strings_are_recognised() -> None:
    from facemask.model.training import _is_multi_gpu

    assert _is_multi_gpu("0,1,2,3") and _is_multi_gpu([0, 1])
    assert not _is_multi_gpu("0") and not _is_multi_gpu("cpu") and not _is_multi_gpu(None)


@pytest.mark.parametrize(
    "config", sorted(p.name for p in (ROOT / "configs").glob("*.yaml") if p.name.startswith(("train", "screen")))
)
def test_every_shipped_training_config_names_only_known_options(config: str) -> None:
    """A misspelt key in a config (`multiscale`, `lr_0`) would stop a run hours in, or be dropped: catch it here."""
    from ultralytics.cfg import DEFAULT_CFG_DICT, check_dict_alignment

    opts, hyp = _options(ROOT / "configs" / config, None, {})
    check_dict_alignment(DEFAULT_CFG_DICT, ultralytics_args(opts, hyp))


def test_the_stripped_checkpoint_is_named_by_its_own_name_in_the_log(tmp_path: Path) -> None:
    """ultralytics says where strip_optimizer saved; written atomically, that is last.pt, not its temporary file."""
    import logging

    from ultralytics.utils import LOGGER

    from facemask.model.trainer import _strip_atomically

    def strip(f: str, s: str, updates: dict | None) -> dict:
        Path(s).write_bytes(b"stripped")
        LOGGER.info(f"Optimizer stripped from {f}, saved as {s}, 0.0MB")
        return {}

    said: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    LOGGER.addHandler(handler)
    try:
        (tmp_path / "last.pt").write_bytes(b"whole")
        _strip_atomically(strip, tmp_path / "last.pt")
    finally:
        LOGGER.removeHandler(handler)
    assert said == [f"Optimizer stripped from {tmp_path / 'last.pt'}, saved as {tmp_path / 'last.pt'}, 0.0MB"]
    assert (tmp_path / "last.pt").read_bytes() == b"stripped" and [p.name for p in tmp_path.iterdir()] == ["last.pt"]
