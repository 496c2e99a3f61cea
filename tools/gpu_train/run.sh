#!/usr/bin/env bash
# Train on a lent GPU machine (the device tool), from what tools/gpu_train/pack.py put in .gpu/:
#   run(command="bash tools/gpu_train/run.sh", carry=[".gpu"], timeout_s=580)
# The machine has PyTorch and no internet: install the carried wheels without their dependencies, train
# for a fixed time that ends well inside the call's 10 minutes, and copy the run's files to $OUT.
set -euo pipefail
export PYTHONUNBUFFERED=1 WANDB_MODE=disabled YOLO_OFFLINE=1
python3 -m pip install -q --no-deps --no-index .gpu/wheels/*.whl
python3 -m pip install -q --no-deps --no-index -e . 2>/dev/null || export PYTHONPATH="$PWD"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
python3 train.py --config configs/train_gpu_crowd.yaml --data .gpu/data/data.yaml --wandb disabled "$@" \
  2>&1 | tee "$OUT/train.log"
run="$(ls -dt runs/train/*/ | head -1)"
cp "$run/weights/best.pt" "$run/results.csv" "$run/args.yaml" "$OUT/"
cp "$run/results.png" "$OUT/" 2>/dev/null || true
