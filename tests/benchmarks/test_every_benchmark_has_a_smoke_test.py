"""Every module of benchmarks/ is named by a smoke test here (imported, or named as benchmarks/NAME.py or
benchmarks.NAME, as a helper's user's docstring does): a benchmark added without one fails this."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from facemask.paths import PROJECT_ROOT

HERE = Path(__file__).resolve().parent


def named_in(test: Path) -> set[str]:
    """The benchmarks modules `test` imports or names."""
    text = test.read_text()
    names = set(re.findall(r"(?<![\w./])benchmarks[./](\w+)", text))  # not tests/benchmarks/...
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module == "benchmarks":
            names |= {alias.name for alias in node.names}
    return names


def test_every_benchmark_is_named_in_a_smoke_test() -> None:
    modules = {p.stem for p in (PROJECT_ROOT / "benchmarks").glob("*.py") if p.stem != "__init__"}
    assert {"event_store", "multi_camera", "clips"} <= modules  # the folder this test guards is the right one
    tests = [p for p in HERE.glob("test_*.py") if p.resolve() != Path(__file__).resolve()]
    named = set().union(*(named_in(t) for t in tests))
    assert sorted(modules - named) == [], "benchmarks without a smoke test in tests/benchmarks/"
