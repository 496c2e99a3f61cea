"""Fine-tuning with ultralytics: defaults from configs/train.yaml, YOLOv5-style options, W&B logging,
--resume from the last checkpoint, and checkpoints written atomically (facemask.model.trainer)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from facemask.data.data_yaml import DatasetError, check_data, dataset_root
from facemask.data.sources import ConfigError
from facemask.model.checkpoints import RESUME_HINT, TRAIN_HINT, CheckpointError, check_device, load_model
from facemask.model.wandb_logging import WandbLogger, default_mode
from facemask.owned_dirs import run_dir
from facemask.paths import CONFIGS_DIR
from facemask.yaml_io import load_yaml

DEFAULT_CONFIG = CONFIGS_DIR / "train.yaml"
#: Options of configs/train.yaml and train.py that are not ultralytics train() arguments.
OWN_KEYS = ("weights", "cfg", "hyp", "wandb", "wandb_project", "wandb_entity", "resume", "callbacks", "config")


def load_config(path: str | Path = DEFAULT_CONFIG) -> dict[str, Any]:
    return load_yaml(path, ConfigError, "training config")


def find_last_checkpoint(project: str | Path) -> Path:
    """The newest runs/train/*/weights/last.pt, for a bare --resume."""
    found = sorted(Path(project).glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise CheckpointError(f"--resume: no last.pt under {project}/*/weights/; give the checkpoint path")
    return found[-1]


def train(
    config: str | Path = DEFAULT_CONFIG,
    resume: bool | str | Path = False,
    wandb: str | None = None,
    hyp: str | Path | dict[str, Any] | None = None,
    callbacks: dict[str, Callable] | None = None,
    **overrides: Any,
) -> Path:
    """Train with the options of `config` updated by `overrides` (None values are ignored) and its
    hyperparameters updated by `hyp` (a dict, or a yaml file as YOLOv5's --hyp); returns the run folder
    (weights/best.pt, weights/last.pt, results.csv, plots)."""
    opts, merged_hyp = _options(config, hyp, overrides)
    if resume:
        model, data_path, run_args = _resumed(resume, opts, _changes(overrides, hyp))
    else:
        model, data_path, run_args = _fresh(opts, merged_hyp)
    if model.task == "detect":
        from facemask.model.trainer import CheckpointTrainer  # it imports ultralytics' trainer

        # ultralytics writes last.pt and best.pt in place: a run killed mid-write left a cut-off best.pt.
        # This subclass of its trainer writes every checkpoint atomically (facemask/model/trainer.py).
        run_args["trainer"] = CheckpointTrainer
    content = yaml.safe_load(data_path.read_text(encoding="utf-8")) if data_path.is_file() else {}
    logger = WandbLogger(
        mode=wandb or default_mode(),
        project=opts.get("wandb_project") or "facemask",
        entity=opts.get("wandb_entity"),
        config={**opts, "hyp": merged_hyp},
        dataset_root=dataset_root(data_path, content) if content else None,
    )
    for event, fn in (callbacks or {}).items():
        model.add_callback(event, fn)
    if _is_multi_gpu(opts.get("device")):
        _train_ddp(model, run_args, logger)
    else:
        logger.attach(model)
        model.train(**run_args)
    save_dir = Path(model.trainer.save_dir)
    hint = logger.sync_hint(save_dir)
    if hint:
        print(f"W&B run saved offline; upload it with: {hint}")
    return save_dir


def _options(
    config: str | Path, hyp: str | Path | dict[str, Any] | None, overrides: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config's options updated by the given overrides, and its `hyp` updated by `hyp`."""
    opts = load_config(config)
    given = {k: v for k, v in overrides.items() if v is not None}
    if given.get("cfg") and "weights" not in given:
        opts["weights"] = None  # YOLOv5: --cfg alone trains from scratch
    opts.update(given)
    if isinstance(hyp, str | Path):
        hyp = load_yaml(hyp, ConfigError, "hyperparameter file")
    return opts, {**(opts.pop("hyp", None) or {}), **(hyp or {})}


def _changes(overrides: dict[str, Any], hyp: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """What a user asks to change in a resumed run: --data, and --hyp's hyperparameters (not the config's)."""
    if isinstance(hyp, str | Path):
        hyp = load_yaml(hyp, ConfigError, "hyperparameter file")
    return {**({"data": overrides["data"]} if overrides.get("data") else {}), **(hyp or {})}


def _resumed(
    resume: bool | str | Path, opts: dict[str, Any], changes: dict[str, Any] | None = None
) -> tuple[Any, Path, dict[str, Any]]:
    """--resume: the interrupted run's checkpoint (the given one, or the newest), checked before it runs;
    returns the model, its dataset yaml and ultralytics' train() arguments. `changes` (--data, --hyp) go
    into a copy of the checkpoint's arguments, since ultralytics resumes with the arguments it saved."""
    last = Path(resume) if isinstance(resume, str | Path) else find_last_checkpoint(opts["project"])
    if not last.is_file():
        raise CheckpointError(f"--resume: checkpoint not found: {last}; {RESUME_HINT}")
    model = load_model(weights=last, hint=RESUME_HINT, pytorch_only=True)
    if "data" not in (model.ckpt or {}).get("train_args", {}):
        raise CheckpointError(f"--resume: {last} is not a training checkpoint (no train_args); {RESUME_HINT}")
    if model.ckpt.get("epoch", -1) == -1:  # ultralytics marks a finished run's checkpoints so (and strips them)
        epochs = model.ckpt["train_args"].get("epochs")
        raise CheckpointError(
            f"--resume: {last} is from a finished run ({epochs} epochs): nothing to resume; "
            f"train on from it with --weights {last} --epochs N"
        )
    if changes:
        last = _changed(last, model.ckpt, changes)
        model = load_model(weights=last, hint=RESUME_HINT, pytorch_only=True)
    data_path = Path(model.ckpt["train_args"]["data"])
    if not data_path.is_file():
        raise DatasetError(f"--resume: {last} was trained on {data_path}, which is not on this machine")
    return model, data_path, {"resume": str(last)}


def _changed(last: Path, ckpt: dict[str, Any], changes: dict[str, Any]) -> Path:
    """A copy of `last` whose run goes on with `changes` (e.g. the corrected labels of an audit), in the run's
    own weights folder; each change is printed, and ultralytics records them in the run's args.yaml."""
    import torch

    args = ckpt["train_args"]
    if "data" in changes:
        changes["data"] = str(check_data(changes["data"])[0])
    for key, value in changes.items():
        print(f"--resume: {key} {args.get(key)} -> {value} for epochs {ckpt['epoch'] + 2} to {args['epochs']}")
    out = Path(args["save_dir"]) / "weights" / "resumed.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**ckpt, "train_args": {**args, **changes}}, out)
    return out


def _fresh(opts: dict[str, Any], hyp: dict[str, Any]) -> tuple[Any, Path, dict[str, Any]]:
    """A new run: the dataset, device and starting model checked, and a run folder that overwrites no
    input; returns the model, the dataset yaml and ultralytics' train() arguments."""
    data_path, content = check_data(opts["data"], "train", "val")
    check_device(opts.get("device"))
    model = load_model(opts.get("weights"), opts.get("cfg"), hint=TRAIN_HINT, pytorch_only=True)
    run_args = ultralytics_args(opts, hyp)
    inputs = [dataset_root(data_path, content), *([opts["weights"]] if opts.get("weights") else [])]
    save_dir = run_dir(
        opts["project"], opts.get("name") or "exp", bool(opts.get("exist_ok")), kind="train", protected=inputs
    )
    run_args.update(data=str(data_path), project=str(save_dir.parent), name=save_dir.name, exist_ok=True)
    return model, data_path, run_args


def ultralytics_args(opts: dict[str, Any], hyp: dict[str, Any]) -> dict[str, Any]:
    """The options and hyperparameters that go to ultralytics' train() as they are (not OWN_KEYS)."""
    return {**{k: v for k, v in opts.items() if k not in OWN_KEYS}, **hyp}


def _is_multi_gpu(device: Any) -> bool:
    return isinstance(device, str | list | tuple) and len([d for d in str(device).split(",") if d.strip()]) > 1


def _train_ddp(model, run_args: dict[str, Any], logger: WandbLogger) -> None:
    """ultralytics runs DDP workers in fresh processes, which our callbacks do not reach; there W&B
    logging is ultralytics' own integration, switched on for this run only."""
    from ultralytics import settings

    before = settings["wandb"]
    if logger.mode != "disabled":
        os.environ["WANDB_MODE"] = logger.mode
        print("multi-GPU: W&B logging by ultralytics' own integration in the DDP workers")
    settings.update({"wandb": logger.mode != "disabled"})
    try:
        model.train(**run_args)
    finally:
        settings.update({"wandb": before})
