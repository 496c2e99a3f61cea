"""facemask.yaml_io: every YAML file a user hands over is refused in one line that says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from facemask.yaml_io import load_yaml


class Refused(ValueError):
    pass


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "rules:\n  - name: a\n    share: [0.2\n",
            "not valid YAML (expected ',' or ']', but got '<stream end>' at line 4, column 1)",
        ),
        ("a: 1\n\tb: 2\n", "not valid YAML (found character '\\t' that cannot start any token at line 2, column 1)"),
        ("- a\n- b\n", "a rules file holds 'key: value' entries, not a list"),
    ],
)
def test_a_bad_yaml_file_is_one_line_that_says_where(text: str, says: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(Refused) as e:
        load_yaml(path, Refused, "rules file")
    assert str(e.value) == f"{path}: {says}"
