"""Where the project keeps things: the one place for default paths, which every script and module reads."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = PROJECT_ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "face_masks.pt"  # the shipped model
EXAMPLES_DIR = PROJECT_ROOT / "examples"  # detect.py's default source
CONFIGS_DIR = PROJECT_ROOT / "configs"
SOURCES_CONFIG = CONFIGS_DIR / "datasets.yaml"  # the public sources prepare_data.py merges
DEFAULT_DATA = PROJECT_ROOT / "data" / "face_masks.yaml"
# The splits the shipped models were trained and measured on, kept by prepare_data.py (--keep-split).
SPLIT_LISTS = {
    "two classes": PROJECT_ROOT / "data" / "face_masks_splits.csv",
    "three classes": PROJECT_ROOT / "data" / "face_masks_3class_splits.csv",
}
DATASETS_DIR = PROJECT_ROOT / "datasets"
MERGED_DATASET = DATASETS_DIR / "face_masks"  # what prepare_data.py writes (--out)
SOURCES_CACHE = DATASETS_DIR / "sources"  # where prepare_data.py --download puts the sources
RUNS_DIR = PROJECT_ROOT / "runs"
VAL_DIR = RUNS_DIR / "val"  # val.py's runs (--project)
AUDIT_DIR = RUNS_DIR / "audit"  # audit_labels.py's runs (--project)
COLLECT_DIR = RUNS_DIR / "collect"  # the app's Collect tab: webcam photos, a folder per collection
PRELABEL_DIR = RUNS_DIR / "prelabel"  # where the Collect tab suggests prelabel.py writes (--out)
