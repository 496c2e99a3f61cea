"""Where the app writes its results (annotated photos and videos): a fresh folder per result under the
system's temporary folder; folders older than SCRATCH_TTL_S are removed as new ones are made."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SCRATCH = Path(tempfile.gettempdir()) / "facemask-app"
SCRATCH_TTL_S = 3600


def scratch_dir() -> Path:
    """A fresh folder for one result; folders older than SCRATCH_TTL_S are removed first."""
    SCRATCH.mkdir(exist_ok=True)
    for old in SCRATCH.iterdir():
        if time.time() - old.stat().st_mtime > SCRATCH_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=SCRATCH))


def image_file(rgb: np.ndarray) -> str:
    """The annotated image as a file of its own. Returned as an array, gradio would write it to a cache
    path named after its content, rewriting that file in place for each identical result: a client
    fetching it meanwhile gets a cut-off image (seen under load). Files are copied in atomically."""
    path = scratch_dir() / "detections.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    return str(path)
