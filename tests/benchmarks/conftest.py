"""The benchmarks' smoke tests: each runs a benchmark's run() as its parse_opt reads a command line, on the
smallest input (the shared tiny model and dataset of tests/conftest.py, one image, one camera, a second or
two of video), and checks the shape of the figures it returns and prints; never their values, which are
a slow machine's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def weights(trained_run: Path) -> Path:
    """The shared tiny model (64 px)."""
    return trained_run / "weights" / "best.pt"
