from __future__ import annotations

import re
import shlex
from pathlib import Path

from benchmarks import inference_formats


def test_each_format_gets_a_row_of_latency_and_map(weights: Path, tiny_data: Path, capsys) -> None:
    flags = shlex.split("--imgsz 64 --images 1 --runs 1 --warmup 1 --formats PyTorch TorchScript")
    opt = inference_formats.parse_opt([*flags, "--weights", str(weights), "--data", str(tiny_data)])
    rows = inference_formats.run(**vars(opt))
    assert [(r["format"], r["imgsz"]) for r in rows] == [("PyTorch", 64), ("TorchScript", 64)]
    for r in rows:
        assert set(r["ms"]) == {"preprocess", "inference", "postprocess", "total"} and r["ms"]["total"] > 0
        assert 0 <= r["mAP50-95"] <= r["mAP50"] <= 1
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if re.match(r"\| (PyTorch|TorchScript) \| 64 \|", line)]
    assert len(table) == 2 and "| 1.00x |" in table[0], out
    assert "settings: {images: 1, int8_calibration: 0.1, runs: 1, warmup: 1}" in out
