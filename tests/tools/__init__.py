"""Tests of tools/: scripts beside the package, not importable as modules, so loaded from their files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_tool(relative: str) -> ModuleType:
    """tools/<relative> (e.g. "keep_checkpoint.py") as a module, importing its siblings as `python tools/X.py`
    does (tools/ first on sys.path)."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / "tools" / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
