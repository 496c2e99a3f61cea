"""Reading the project's YAML files (sources, dataset, training configs) with errors that say which file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def load_yaml(path: str | Path, error: type[Exception], what: str, hint: str = "") -> dict[str, Any]:
    """The mapping in `path`; a missing file or invalid YAML raises `error` naming `what` and the file,
    followed by `hint` (what to do about it)."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}{hint}")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML ({_one_line(e)})") from e
    except UnicodeDecodeError as e:
        raise error(f"{path}: not a text file ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise error(f"cannot read {path}: {e.strerror}") from e
    if not isinstance(content, dict):
        found = "a list" if isinstance(content, list) else f"just {str(content)[:40]!r}"
        raise error(f"{path}: a {what} holds 'key: value' entries, not {found}")
    return content


def _one_line(e: yaml.YAMLError) -> str:
    """PyYAML's error in one line: what is wrong and where (its own text quotes the file over several)."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem
