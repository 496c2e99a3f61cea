"""Where the project keeps things: the one place for default paths, which every script and module reads."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = PROJECT_ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "face_masks.pt"  # the shipped model
EXAMPLES_DIR = PROJECT_ROOT / "examples"  # detect.py's default source
CONFIGS_DIR = PROJECT_ROOT / "configs"
DEFAULT_DATA = PROJECT_ROOT / "data" / "face_masks.yaml"
# The splits the shipped models were trained and measured on, kept by prepare_data.py (--keep-split).
SPLIT_LISTS = {"two classes": PROJECT_ROOT / "data" / "face_masks_splits.csv",
               "three classes": PROJECT_ROOT / "data" / "face_masks_3class_splits.csv"}  # fmt: skip
DATASETS_DIR = PROJECT_ROOT / "datasets"
RUNS_DIR = PROJECT_ROOT / "runs"
