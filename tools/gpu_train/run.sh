#!/usr/bin/env bash
# Train on a lent GPU machine (the device tool), from the parts tools/gpu_train/pack.py cut into .gpu/parts
# and earlier calls carried there (see pack.py's docstring); this call carries the last part and the manifest:
#   run(command="bash tools/gpu_train/run.sh [CONFIG]", carry=[".gpu/parts/part-04", ".gpu/parts/manifest.txt"], timeout_s=580)
# The machine has PyTorch and no internet: join and check the parts, install the carried wheels without
# their dependencies, train for a fixed time that ends well inside the call's 10 minutes (the config's
# `time`), and copy the run's files to $OUT. The first argument picks the config (default: YOLOv5n from
# the packed backbone; configs/train_gpu_crowd_v5s.yaml: the original YOLOv5s recipe, from scratch).
set -euo pipefail
config=${1:-configs/train_gpu_crowd.yaml}
export PYTHONUNBUFFERED=1 WANDB_MODE=disabled YOLO_OFFLINE=1
bash tools/gpu_train/join.sh .gpu/parts .gpu/payload
python3 -m pip install -q --no-deps --no-index .gpu/payload/wheels/*.whl
python3 -m pip install -q --no-deps --no-index -e . 2>/dev/null || export PYTHONPATH="$PWD"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
python3 train.py --config "$config" --wandb disabled 2>&1 | tee "$OUT/train.log"
run="$(ls -dt runs/train/*/ | head -1)"
cp "$run/weights/best.pt" "$run/results.csv" "$run/args.yaml" "$OUT/"
cp "$run/results.png" "$OUT/" 2>/dev/null || true
