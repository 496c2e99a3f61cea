from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from facemask.app import web_page
from facemask.paths import EXAMPLES_DIR, PROJECT_ROOT
from tests.browser import playwright_or_skip


def test_the_page_and_the_server_models_get_a_column_each(weights: Path) -> None:
    playwright_or_skip()
    try:
        web_page.runtime_package()  # npm-installed into the cache on the first run
    except web_page.WebPageError as e:
        if os.environ.get("FACEMASK_REQUIRE_BROWSER"):
            pytest.fail(f"FACEMASK_REQUIRE_BROWSER is set but the page's runtime cannot be fetched ({e})")
        pytest.skip(f"the page's runtime cannot be fetched ({e})")
    # A process of its own: Playwright's sync API refuses to start inside the test process's shared browser.
    args = ["--weights", str(weights), "--images", str(EXAMPLES_DIR / "bus.jpg"), "--runs", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.web_page_speed", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "page WASM 1 thread" in out and "server .onnx" in out and "server .pt" in out, out
    assert "best.pt, 1 images, medians of 1 runs after a warm-up" in out and out.count(" vs server .") == 4, out
