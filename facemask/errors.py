"""The project's own error type: what a user can fix (a bad path, flag, file or config).

Scripts catch `FacemaskError` in `main()` and print its message on one line; anything else is a bug
and keeps its traceback. Subclasses keep a standard base too (ValueError, FileNotFoundError, ...) so
that Python callers can catch what they already expect.
"""

import sys

from tqdm import tqdm


class FacemaskError(Exception):
    """A problem with the user's input, said in one line: what is wrong and what to do instead."""


def warn(message: str) -> None:
    """Say on stderr what a run goes on past (a skipped file, an undelivered alert), on a line of its own:
    through tqdm, which lifts a progress bar off the line and redraws it below, so a warning from any
    thread (the webhook's, MQTT's) never lands on the end of the bar."""
    tqdm.write(f"WARNING: {message}", file=sys.stderr)
