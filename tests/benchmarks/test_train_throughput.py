from __future__ import annotations

import re
import shlex

from benchmarks import train_throughput


def test_one_model_at_one_size_gives_its_images_per_second(capsys) -> None:
    opt = train_throughput.parse_opt(shlex.split("--models yolov5n.yaml --imgsz 32 --batch 2 --steps 1"))
    rows = train_throughput.run(**vars(opt))
    assert [(model, size) for model, size, _ in rows] == [("yolov5n.yaml", 32)]
    assert rows[0][2] > 0
    out = capsys.readouterr().out
    assert "training throughput, batch 2, CPU" in out
    assert re.search(r"^yolov5n\.yaml\s+32\s+\d+\.\d\s+\d+\.\d{3}$", out, re.M), out
