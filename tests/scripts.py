"""Run the project's scripts as a user does, `python detect.py ...`, each in a process of its own, forked
from one that has already imported torch, ultralytics, OpenCV and gradio.

A fresh interpreter spends about two seconds importing those before a script does anything, and the
suite runs its scripts dozens of times. A child forked from the warm process still gets the script as
`__main__`, its own argv, working directory, environment, exit status, non-daemon threads waited for,
atexit handlers run, and stdout and stderr captured at the file-descriptor level (so ultralytics'
logger and C libraries are caught too). What a fresh interpreter would do differently: read the
environment while importing those modules. Tests of that use subprocess.run.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Imported once by the fork server; every module a script imports after these is imported in the child.
PRELOAD = ["torch", "torchvision", "cv2", "ultralytics", "gradio", "facemask.inference.pipeline",
           "facemask.app.service"]  # fmt: skip

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


@dataclass
class Completed:
    """What a finished script left: exit status (negative: killed by that signal), output, wall time."""

    code: int
    out: bytes
    err: bytes
    seconds: float

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "backslashreplace")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "backslashreplace")


def run_script(
    script: Path,
    args: Iterable[str | os.PathLike],
    cwd: Path,
    timeout: float = 180,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """`python script args...` in `cwd` with `env` (default: this process's environment now)."""
    argv = [os.fsdecode(a) for a in args]
    with tempfile.TemporaryDirectory(prefix="script-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        child = _CONTEXT.Process(
            target=_main, args=(str(script), argv, str(cwd), str(out), str(err), dict(env or os.environ))
        )
        start = time.monotonic()
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([str(script), *argv], timeout, out.read_bytes(), err.read_bytes())
        return Completed(child.exitcode, out.read_bytes(), err.read_bytes(), time.monotonic() - start)


def _main(script: str, argv: list[str], cwd: str, out: str, err: str, env: dict[str, str]) -> None:
    """The child: what the interpreter does for `python script argv...`, then exit with its status."""
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = [script, *argv]
    sys.path.insert(0, os.path.dirname(script))
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:  # sys.exit("message"): printed, status 1
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for thread in threading.enumerate():  # the interpreter waits for non-daemon threads before exiting
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
