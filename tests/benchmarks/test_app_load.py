from __future__ import annotations

import re

from benchmarks import app_load


def test_one_client_gets_latency_and_no_errors(app_url: str, capsys) -> None:
    opt = app_load.parse_opt(["--clients", "1", "--requests", "1", "--url", app_url])
    result = app_load.run(**vars(opt))
    assert result["requests"] == 1 and result["errors"] == []
    assert result["requests_per_s"] > 0 and result["p50_s"] > 0 and result["memory"] == []  # not its server
    out = capsys.readouterr().out
    assert f"1 clients x 1 requests = 1 images to {app_url}" in out
    assert re.search(r"^requests/s [\d.]+ +p50 [\d.]+ s +p95 nan s +errors 0 +wall [\d.]+ s$", out, re.M), out
