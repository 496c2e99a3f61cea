"""facemask.events.options: events options that nothing would use are said, not dropped."""

from __future__ import annotations

from pathlib import Path

from facemask.events.options import EventOptions


def test_options_that_nothing_uses_are_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("FACEMASK_DB", raising=False)
    lonely = EventOptions(webhook="http://127.0.0.1:9/x", retain_days=3, snapshots="raw", folder=tmp_path)
    assert [n.split(" ", 1)[0] for n in lonely.unused()] == ["--retain-days", "--snapshots", "--webhook"]
    stored = EventOptions(db="", webhook="http://127.0.0.1:9/x", alerts="rules.yaml", retain_days=3, folder=tmp_path)
    assert stored.unused() == [] and EventOptions(folder=tmp_path).unused() == []
