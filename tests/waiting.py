"""Waiting in a test for something another process or thread does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 60, every_s: float = 0.2) -> Any:
    """What `check` returns once it is true, asked every `every_s`; fails naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, f"no {what} within {timeout_s} s"
        time.sleep(every_s)
    return found
