"""Read back what an offline W&B run recorded, to prove logging happened.

wandb (0.31) no longer ships a reader for its run files, so this parses the LevelDB-style log by
hand: a 7-byte file header, then 32 KiB blocks of records (4-byte CRC, 2-byte length, 1-byte type:
1 full, 2 first, 3 middle, 4 last), each payload a protobuf `Record`.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

BLOCK, HEADER = 32768, 7


def records(run_file: Path) -> list[Any]:
    data, pos, out, parts = run_file.read_bytes(), HEADER, [], b""
    while pos + 7 <= len(data):
        if BLOCK - pos % BLOCK < 7:
            pos += BLOCK - pos % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 0:
            break
        parts = chunk if kind in (1, 2) else parts + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            out.append(record)
    return out


def history(run_file: Path) -> list[dict[str, Any]]:
    """Every committed row of run.log(), as key -> value."""
    rows = []
    for r in records(run_file):
        if r.WhichOneof("record_type") == "history":
            rows.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json) for i in r.history.item})
    return rows


def artifacts(run_file: Path) -> list[tuple[str, str]]:
    """(type, name) of each artifact the run logged."""
    return [(r.artifact.type, r.artifact.name) for r in records(run_file) if r.WhichOneof("record_type") == "artifact"]


def run_files(run_dir: Path) -> list[Path]:
    """Every offline W&B session under a training run, oldest first (a resumed run adds one)."""
    found = sorted(run_dir.glob("wandb/offline-run-*/run-*.wandb"), key=lambda p: p.stat().st_mtime)
    assert found, f"no offline W&B run under {run_dir}"
    return found


def run_file(run_dir: Path) -> Path:
    """The latest session's file."""
    return run_files(run_dir)[-1]
