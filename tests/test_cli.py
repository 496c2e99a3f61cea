"""facemask.cli: every script's --help says the defaults a user relies on, once each, and not for switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from facemask.cli import script_parser
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[1]


def test_help_says_defaults_worth_saying() -> None:
    p = script_parser("Do a thing.\n\nUsage: ...")
    p.add_argument("--conf", type=float, default=0.25, help="confidence")
    p.add_argument("--said", default=3, help="already says it (default: %(default)s)")
    p.add_argument("--switch", action="store_true", help="a switch")
    p.add_argument("--weights", default=None, help="a model")
    p.add_argument("--on", action="store_true", default=True, help="on unless told")
    text = " ".join(p.format_help().split())
    assert text.count("(default:") == 3 and "confidence (default: 0.25)" in text and "(default: on)" in text
    assert "Do a thing." in text and "Usage" not in text


@pytest.mark.parametrize(
    ("script", "said"),
    [
        (
            "detect.py",
            [
                "confidence threshold (0-1) (default: 0.25)",
                "as YOLOv5's default) (default: on)",
            ],
        ),
        ("val.py", ["confidence threshold (0-1) (default: 0.001)", "(default: 768)"]),
    ],
)
def test_scripts_show_their_defaults(script: str, said: list[str], tmp_path: Path) -> None:
    result = run_script(ROOT / script, ["--help"], tmp_path)
    text = " ".join(result.stdout.split())
    assert result.code == 0 and all(s in text for s in said) and "default: False" not in text
