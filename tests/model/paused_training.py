"""`python paused_training.py DATA_YAML PROJECT` trains the tiny model of tests/conftest.py for one epoch
(project/t), stopping halfway through every checkpoint write, for tests/model/test_train.py.

Each write of a .pt file (ultralytics writes bytes with Path.write_bytes, and strip_optimizer uses
torch.save) writes its first half, then puts the path it is writing in ./paused and waits until the test
deletes that file before writing the rest: the test sees the folder as a kill at that moment would leave
it, and may kill -9 the run there.
"""

from __future__ import annotations

import io
import os
import pathlib
import sys
import time

import torch

import train
from tests.conftest import TINY_TRAIN

PAUSED = pathlib.Path("paused")
write_bytes, save = pathlib.Path.write_bytes, torch.save


def paused_write(path: pathlib.Path, data: bytes) -> int:
    if ".pt" not in path.name:
        return write_bytes(path, data)
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        PAUSED.with_suffix(".tmp").write_text(str(path))
        PAUSED.with_suffix(".tmp").replace(PAUSED)  # whole when the test sees it: it reads as soon as it exists
        while PAUSED.exists():
            time.sleep(0.01)
        f.write(data[len(data) // 2 :])
    return len(data)


def paused_save(obj, f, *args, **kwargs) -> None:
    if not isinstance(f, str | os.PathLike):
        return save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    save(obj, buffer, *args, **kwargs)
    pathlib.Path(f).write_bytes(buffer.getvalue())
    return None


pathlib.Path.write_bytes = paused_write
torch.save = paused_save
data, project = sys.argv[1:]
train.run(data=data, epochs=1, project=project, name="t", plots=False, **{**TINY_TRAIN, "wandb": "disabled"})
