"""One headless Chromium per test process for the browser tests (the app, the in-browser page, the audit
gallery's review): launching it costs more than most of those tests, and Playwright's sync API allows one
per process, so every test shares this one (registered in tests/conftest.py). `.ci/run`
installs Chromium and sets FACEMASK_REQUIRE_BROWSER, so in CI they cannot be skipped; elsewhere they are
skipped when Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A fake camera, so that a denied one is denied by permission and an allowed one gives frames.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
]


def playwright_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if os.environ.get("FACEMASK_REQUIRE_BROWSER"):
            pytest.fail("FACEMASK_REQUIRE_BROWSER is set but Playwright or Chromium is missing")
        pytest.skip("Playwright or Chromium not installed")
    return sync_playwright


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Each test opens a context of its own in it (its own permissions, cookies and cache)."""
    sync_playwright = playwright_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
