"""`python slow_detect.py ARGS...` runs `python detect.py ARGS...` with the colour detector of test_tracking
standing in for the model, each frame taking at least FACEMASK_TEST_FRAME_S seconds (so that a test can
signal it mid-run), for tests/inference/test_signals.py.

FACEMASK_TEST_SIGNAL=<signal number>:<moment> makes the run send itself that signal at a moment a test
cannot hit from outside: `load` (while the model loads) or `chart` (while the chart of every source is
drawn, when the run has seen its last frame and is saving).
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

from facemask.inference import detector, people_report
from tests.inference.test_tracking import colour_detector

ROOT = Path(__file__).resolve().parents[2]
FRAME_S = float(os.environ.get("FACEMASK_TEST_FRAME_S", "0"))
SIGNUM, _, MOMENT = os.environ.get("FACEMASK_TEST_SIGNAL", "0:").partition(":")


def signalled(fn, moment: str):
    """`fn`, sending this process SIGNUM first when `moment` is the one asked for."""

    def wrapper(*args, **kwargs):
        if moment == MOMENT:
            os.kill(os.getpid(), int(SIGNUM))
        return fn(*args, **kwargs)

    return wrapper


def slow_colour_detector(self, image, options=None):
    time.sleep(FRAME_S)
    return colour_detector(self, image, options)


detector.Detector.__call__ = slow_colour_detector
detector.Detector.__init__ = signalled(detector.Detector.__init__, "load")
people_report.sources_chart = signalled(people_report.sources_chart, "chart")
sys.argv = [str(ROOT / "detect.py"), *sys.argv[1:]]
runpy.run_path(sys.argv[0], run_name="__main__")
