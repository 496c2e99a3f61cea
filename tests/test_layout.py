"""The code's shape, held by a test so it cannot drift: the layers of ARCHITECTURE.md (import-linter's
contracts in pyproject.toml), no module over 300 lines, no function over 60, no import cycle. Over
facemask/, the top-level scripts, benchmarks/ and tools/: what a reader has to hold in their head."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
PACKAGES = ("facemask", "benchmarks")  # the import graph's roots; tools/ holds no package


def scripts(root: Path = ROOT) -> list[Path]:
    """The top-level scripts (detect.py, val.py, ...)."""
    return sorted(root.glob("*.py"))


def checked_files(root: Path = ROOT, folders: Iterable[str] = (*PACKAGES, "tools")) -> list[Path]:
    """The scripts and every module under `folders`, relative to `root`."""
    found = {*scripts(root), *(p for d in folders for p in (root / d).rglob("*.py"))}
    return sorted(p.relative_to(root) for p in found)


def long_modules(root: Path, files: Iterable[Path], limit: int = MAX_MODULE_LINES) -> list[str]:
    lengths = {p: len((root / p).read_text(encoding="utf-8").splitlines()) for p in files}
    return [f"{p}: {n} lines" for p, n in lengths.items() if n > limit]


def long_functions(root: Path, files: Iterable[Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions (and methods) longer than `limit` lines, from `def` to their last line."""
    found = []
    for path in files:
        for node in ast.walk(ast.parse((root / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(f"{path}:{node.lineno} {node.name}: {length} lines")
    return found


def imported_names(path: Path) -> set[str]:
    """What a file imports: `import a.b` gives a.b, `from a import b` gives a and a.b (b may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path, packages: Iterable[str], script_files: Iterable[Path]) -> grimp.ImportGraph:
    """grimp's graph of the packages and what they import (so a script they import is in it), with the
    scripts' own imports added: grimp reads packages only."""
    sys.path.insert(0, str(root))
    try:
        graph = grimp.build_graph(*packages, include_external_packages=True, cache_dir=None)
    finally:
        sys.path.remove(str(root))
    for script in script_files:
        if script.stem not in graph.modules:  # (else it is there as a package's import)
            graph.add_module(script.stem)
        for name in imported_names(script) & graph.modules:
            graph.add_import(importer=script.stem, imported=name)
    return graph


def cycles(graph: grimp.ImportGraph) -> list[str]:
    """Each import that is part of a cycle, with the chain that leads back to it."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                found.append(" -> ".join((importer, *back)))
    return found


def test_the_import_contracts_hold() -> None:
    """pyproject.toml's [tool.importlinter] contracts: scripts above stages above the shared modules."""
    done = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--no-cache", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[done.stdout.find("Broken contracts") :] + done.stderr


def test_every_script_is_kept_out_of_the_package() -> None:
    """A new script is named in the contract that keeps the package from importing scripts."""
    contracts = read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    (forbidden,) = [c for c in contracts if c["type"] == "forbidden"]
    assert {p.stem for p in scripts()} <= set(forbidden["forbidden_modules"])


def test_no_module_over_300_lines() -> None:
    found = long_modules(ROOT, checked_files())
    assert not found, "\n".join(found)


def test_no_function_over_60_lines() -> None:
    found = long_functions(ROOT, checked_files())
    assert not found, "\n".join(found)


def test_no_import_cycle() -> None:
    found = cycles(import_graph(ROOT, PACKAGES, scripts()))
    assert not found, "\n".join(found)


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """On a made-up project: a cycle through a script, a function of 61 lines and a module of 301."""
    (tmp_path / "made_up").mkdir()
    (tmp_path / "made_up" / "__init__.py").write_text("")
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    (tmp_path / "made_up" / "a.py").write_text(f"import run_me\n\n\ndef long():\n{body}" + "\n" * 237)
    (tmp_path / "made_up" / "b.py").write_text("def short():\n    return 1\n")
    (tmp_path / "run_me.py").write_text("from made_up import a, b\n")
    files = checked_files(tmp_path, ["made_up"])
    assert long_functions(tmp_path, files) == ["made_up/a.py:4 long: 61 lines"]
    assert long_modules(tmp_path, files) == ["made_up/a.py: 301 lines"]
    found = cycles(import_graph(tmp_path, ["made_up"], scripts(tmp_path)))
    assert found == ["made_up.a -> run_me -> made_up.a", "run_me -> made_up.a -> run_me"]
