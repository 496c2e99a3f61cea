"""Benchmarks: figures, never timed tests. Each module is run from the project's root as
`python -m benchmarks.NAME` (a docstring with usage, `run(**kwargs)` returning the figures it prints,
`parse_opt()`, `main()`), drives the package through the scripts' and the stages' public API, and has a
smoke test on tiny input in tests/benchmarks/. The tables they print are in docs/benchmarks.md.

The inputs most of them default to, in one place: crowd photos of ../shared (2-20 faces each, when it is
there) and the merged dataset without the merge's turned copies.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from facemask.paths import EXAMPLES_DIR, PROJECT_ROOT

SHARED_CROWDS = PROJECT_ROOT.parent / "shared" / "datasets" / "andrewmvd-face-mask-detection" / "images"
CROWD_PHOTOS = SHARED_CROWDS if SHARED_CROWDS.is_dir() else EXAMPLES_DIR  # what the video benchmarks pan across
UPRIGHT_DATA = PROJECT_ROOT / "data" / "face_masks_upright.yaml"  # the merge without its _rot90/180/270 copies


def defaults(run: Callable[..., Any]) -> dict[str, Any]:
    """The keyword defaults of a benchmark's `run`, for its parse_opt (`parser.set_defaults(**defaults(run))`):
    each default is written once, in run()'s signature."""
    return {
        name: p.default
        for name, p in inspect.signature(run).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
