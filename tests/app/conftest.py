"""Fixtures of the app's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def launched(monkeypatch) -> dict:
    """What app.main passes to demo.launch, which then returns at once (no server is started)."""
    import app

    seen: dict = {}

    def launch(**kwargs) -> tuple[None, str, None]:
        seen.update(kwargs)
        return None, f"http://127.0.0.1:{kwargs['server_port']}/", None

    monkeypatch.setattr(app.demo, "launch", launch)
    monkeypatch.setattr(app.demo, "block_thread", lambda: None)
    return seen
