"""A warning the run goes on past lands on a line of its own, never on the end of a progress bar, even when
it comes from another thread (the webhook's, MQTT's)."""

from __future__ import annotations

import re
import sys
import threading

from tqdm import tqdm

from facemask.errors import warn

REFUSED = "the webhook refused the alert door on cam1 (HTTP 404); not retried"


def test_a_warning_during_a_progress_bar_is_a_line_of_its_own(capsys) -> None:
    with tqdm(total=3, desc="photos", file=sys.stderr) as bar:
        bar.update(1)
        helper = threading.Thread(target=warn, args=(REFUSED,))
        helper.start()
        helper.join()
        bar.update(2)
    err = capsys.readouterr().err
    lines = [line.strip() for line in re.split(r"[\r\n]", err) if line.strip()]
    assert (
        "WARNING: the webhook refused the alert door on cam1 (HTTP 404); not retried" in lines
    )  # the whole line, bar text apart
    assert lines[-1].startswith("photos: 100%")  # and the bar goes on below it
