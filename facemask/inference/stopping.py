"""Stopping a run without losing what it saw: Ctrl-C (SIGINT) and SIGTERM (what `docker stop`, systemd
and `kill` send) end a run the same way.

Once `install`ed (by a script, first thing), either signal raises `Stopped`, a KeyboardInterrupt, in the
main thread, so the `finally`s that save a run's files run for both. What saves runs inside `held()`: a
signal that comes meanwhile waits until the block is done (then `Stopped` is raised), and a signal that
comes while a stopped run saves is ignored, so no file is cut off half-written. A stopped script exits
128 + the signal's number once saved (130 for Ctrl-C, 143 for SIGTERM), as shells expect.

Only the standard library is imported here: detect.py installs the handlers before its imports load
torch and OpenCV for seconds, so a Ctrl-C even then is one line, not a traceback. A signal that lands
while a C extension runs Python code (pydantic_core building fastapi's models, a pybind11 module of scipy
being initialised) has its `Stopped` turned by that extension into an error of its own (a SchemaError, an
ImportError) that no `except KeyboardInterrupt` catches: an error left uncaught while a stop is pending
is that stop, one line and 130 or 143. Except one out of held(): what saves failed, a bug that keeps its
traceback. A signal that lands where Python ignores errors (importlib's weakref callback of a module lock,
a `__del__`) has its `Stopped` printed as "Exception ignored" and dropped: it is sent again from outside.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """A run stopped by `signum`."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _State:
    stop: Stopped | None = None  # the first stop asked for (a later signal is ignored)
    raised: bool = False  # it has been raised
    resending: bool = False  # it was dropped where Python ignores errors, and is being sent again
    holding: int = 0  # depth of held() blocks running
    unsaved: BaseException | None = None  # the last error out of a held() block: what saves failed


_state = _State()


def install() -> None:
    """SIGINT and SIGTERM raise `Stopped` from now on (call it from the main thread of a script), and an error
    left uncaught while a stop is pending ends the script as that stop."""
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)
    sys.excepthook = _on_uncaught
    sys.unraisablehook = _on_unraisable


def _on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """sys.unraisablehook: the stop, raised where Python drops errors, is asked for again by a signal sent
    a moment later from another thread, so it lands in the main thread's own code, not in this hook (an
    error out of a hook is dropped too). Any other error is printed as Python would."""
    stop = _state.stop
    if stop is None or unraisable.exc_value is not stop or sys.is_finalizing():
        sys.__unraisablehook__(unraisable)
        return
    _state.raised, _state.resending = False, True  # the stop stays asked for: stopped_by() still names it
    threading.Thread(target=_send_again, args=(stop.signum,), daemon=True).start()


def _send_again(signum: int) -> None:
    """The signal again, from this thread, once the hook has returned: Python runs its handler in the main
    thread at its next bytecode, outside the callback that dropped the first."""
    time.sleep(0.05)  # the hook, and the C code that called it, have returned by then
    os.kill(os.getpid(), signum)


def _on_uncaught(kind: type[BaseException], error: BaseException, traceback: object) -> None:
    """sys.excepthook: an uncaught error is shown with its traceback, unless it is the pending stop or took
    its place (then the script exits as stopped). A C extension that prints a stop it caught calls this too,
    with the stop itself; an error out of held(), what saves, is a failure to save and keeps its traceback."""
    stop = _state.stop
    if stop is None or error is _state.unsaved:
        sys.__excepthook__(kind, error, traceback)
        return
    exit_stopped(os.path.basename(sys.argv[0]), stop)


def _on_signal(signum: int, _frame: object) -> None:
    if _state.resending:  # the dropped stop, sent again: the same one is raised (after held(), if in one)
        _state.resending = False
    elif _state.stop is not None:
        return  # already stopping: what is being saved gets saved
    else:
        _state.stop = Stopped(signum)
    if not _state.holding:
        _raise()


def _raise() -> NoReturn:
    _state.raised = True
    raise _state.stop


@contextmanager
def held() -> Iterator[None]:
    """The block runs to its end whatever signal comes; a stop asked for meanwhile is raised after it (after
    the outermost of nested blocks). Without `install`, and in other threads' runs (the app's camera wall), it
    changes nothing: the stop is the main thread's, so a worker must neither hold it back nor raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.holding += 1
    try:
        yield
    except BaseException as e:
        _state.unsaved = e
        raise
    finally:
        _state.holding -= 1
    if not _state.holding and _state.stop is not None and not _state.raised:
        _raise()


def stopped_by() -> str | None:
    """The name of the signal that stopped this run (SIGINT, SIGTERM), or None."""
    return None if _state.stop is None else signal.Signals(_state.stop.signum).name


def exit_stopped(prog: str, stop: KeyboardInterrupt) -> NoReturn:
    """Say in one line that `prog` was stopped, and exit 128 + the signal's number (a bare KeyboardInterrupt:
    SIGINT's)."""
    signum = getattr(stop, "signum", signal.SIGINT)
    print(f"{prog}: stopped by {signal.Signals(signum).name}", file=sys.stderr)
    sys.exit(128 + signum)
