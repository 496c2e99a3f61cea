from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks import web_page_speed
from facemask.app import web_page
from facemask.paths import EXAMPLES_DIR
from tests.app.conftest import playwright_or_skip


def test_the_page_and_the_server_models_get_a_column_each(weights: Path, capsys) -> None:
    playwright_or_skip()
    try:
        web_page.runtime_package()  # npm-installed into the cache on the first run
    except web_page.WebPageError as e:
        if os.environ.get("FACEMASK_REQUIRE_BROWSER"):
            pytest.fail(f"FACEMASK_REQUIRE_BROWSER is set but the page's runtime cannot be fetched ({e})")
        pytest.skip(f"the page's runtime cannot be fetched ({e})")
    opt = web_page_speed.parse_opt(
        ["--weights", str(weights), "--images", str(EXAMPLES_DIR / "bus.jpg"), "--runs", "1"]
    )
    result = web_page_speed.run(**vars(opt))
    columns = list(result["ms"])
    assert columns[0] == "page WASM 1 thread" and columns[1].startswith("page WASM ")
    assert columns[2:] == ["server .onnx", "server .pt"]
    assert all(list(ms) == ["bus.jpg"] and ms["bus.jpg"] > 0 for ms in result["ms"].values())
    assert set(result["agreement"]) == {(page, server) for page in columns[:2] for server in columns[2:]}
    out = capsys.readouterr().out
    assert "best.pt, 1 images, medians of 1 runs after a warm-up" in out and out.count(" vs server .") == 4
