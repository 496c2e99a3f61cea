"""ultralytics' detection trainer, with every checkpoint written atomically.

Why: ultralytics 8.4 writes weights/last.pt, best.pt and epochN.pt in place (`Path.write_bytes` in
BaseTrainer.save_model, each epoch), and rewrites last.pt and best.pt in place again at the end
(`strip_optimizer` in final_eval, through torch.save). A run killed during one of those writes (kill -9,
an out-of-memory kill, a power cut) left best.pt cut off mid-write (torch.load fails) beside an intact
last.pt. Here each of those files is written to a temporary file in the same folder and renamed over the
old one (facemask.model.checkpoints.replacing): a kill at any moment leaves every checkpoint whole or
absent. The hook is a subclass, so that nothing of ultralytics changes for anyone else: its checkpoint
paths are `AtomicPath`s, and only while its own final_eval runs is strip_optimizer the atomic one.

Imported when training starts (it imports ultralytics); train() hands the class to ultralytics'
`model.train(trainer=...)`, which also rebuilds it in each DDP worker from this module.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ultralytics.engine import trainer as trainer_module
from ultralytics.models.yolo.detect import DetectionTrainer

from facemask.model.checkpoints import replacing, write_atomically


class AtomicPath(type(Path())):
    """A path whose `write_bytes` replaces the file atomically; paths made from it (`wdir / "epoch3.pt"`) are too."""

    def write_bytes(self, data: bytes) -> int:  # ultralytics passes bytes, never a memoryview
        write_atomically(self, data)
        return len(data)


def _strip_atomically(
    strip: Callable[..., dict[str, Any]], f: str | Path, s: str = "", updates: dict[str, Any] | None = None
) -> dict[str, Any]:
    """ultralytics' strip_optimizer(f, s, updates), writing its result to a temporary file renamed over
    `s` (or `f`, which it would otherwise overwrite in place)."""
    final = Path(s or f)
    with replacing(final) as tmp, _said_as(tmp, final):
        return strip(f, str(tmp), updates)


@contextlib.contextmanager
def _said_as(tmp: Path, final: Path) -> Iterator[None]:
    """ultralytics' log lines name `final` where they would name the temporary file (strip_optimizer says
    "saved as .last.pt.123.tmp", a file that is gone once renamed)."""

    def rename(record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.replace(str(tmp), str(final))
        return True

    logger = logging.getLogger("ultralytics")
    logger.addFilter(rename)
    try:
        yield
    finally:
        logger.removeFilter(rename)


class CheckpointTrainer(DetectionTrainer):
    """DetectionTrainer whose last.pt, best.pt and epochN.pt are never left half-written."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.wdir = AtomicPath(self.wdir)
        self.last, self.best = self.wdir / "last.pt", self.wdir / "best.pt"

    def final_eval(self) -> None:
        """ultralytics' final_eval, its strip_optimizer (a module global of ultralytics.engine.trainer, so it
        cannot be reached otherwise) swapped for the atomic one while it runs."""
        original = trainer_module.strip_optimizer
        trainer_module.strip_optimizer = functools.partial(_strip_atomically, original)
        try:
            super().final_eval()
        finally:
            trainer_module.strip_optimizer = original
