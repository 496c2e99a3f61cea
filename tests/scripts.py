"""Run the project's scripts as a user does, `python detect.py ...`, each in a process of its own, forked
from a copy of the test process made as soon as it has imported torch, ultralytics, OpenCV and gradio.

A fresh interpreter spends about two seconds importing those before a script does anything, and the
suite runs its scripts dozens of times. `start()` (called by conftest.pytest_configure, before any test
runs or any test thread exists, with pytest's capture off so that loggers bind to the real stdout)
imports them and forks a server; each script is then forked from that server, which costs nothing to
make (multiprocessing's forkserver would import them all again in a second interpreter, about 5 s of
CPU per test process). A child still gets the script as `__main__`, its own argv, working directory,
environment, exit status, stdin from /dev/null, non-daemon threads waited for, atexit handlers run,
and stdout and stderr captured at the file-descriptor level (so ultralytics' logger and C libraries
are caught too). What a fresh interpreter would do differently: read the environment while importing
those modules. Tests of that use subprocess.run.
"""

from __future__ import annotations

import atexit
import faulthandler
import gc
import importlib
import os
import pickle
import runpy
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Imported before the server is forked; every module a script imports after these is imported in the child.
PRELOAD = ["torch", "torchvision", "cv2", "ultralytics", "gradio", "facemask.inference.pipeline",
           "facemask.app.service"]  # fmt: skip


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


class _Server:
    """The forked copy: it reads a request, forks the script's process, answers its pid, then its status."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            ours.close()
            _serve(theirs)  # never returns
        theirs.close()
        self.socket = ours
        self.lock = threading.Lock()  # one request at a time

    def run(self, request: tuple, timeout: float) -> tuple[int, bool]:
        """(exit status, timed out) of the script `request` describes; killed after `timeout` seconds."""
        with self.lock:
            self.socket.settimeout(None)
            _send(self.socket, request)
            (pid,) = struct.unpack("q", _receive(self.socket, 8))
            self.socket.settimeout(timeout)
            try:
                status = _receive(self.socket, 8)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self.socket.settimeout(None)
                status, timed_out = _receive(self.socket, 8), True
            else:
                timed_out = False
            return struct.unpack("q", status)[0], timed_out


_server: _Server | None = None


def start() -> None:
    """Import PRELOAD and fork the server (once per test process)."""
    global _server
    if _server is None:
        for name in PRELOAD:
            importlib.import_module(name)
        # What is imported now lives as long as the process: out of the collector's sight (gc.freeze), every
        # full collection skips its half a million objects (0.2 s each) and leaves the forked pages shared.
        gc.freeze()
        sys.stdout.flush()
        sys.stderr.flush()  # or the children would write what this process had not yet written
        _server = _Server()


def run_script(
    script: Path,
    args: Iterable[str | os.PathLike],
    cwd: Path,
    timeout: float = 180,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """`python script args...` in `cwd` with `env` (default: this process's environment now)."""
    if _server is None:
        raise RuntimeError("no script server: tests/conftest.py starts it when pytest starts (pytest_configure)")
    argv = [os.fsdecode(a) for a in args]
    with tempfile.TemporaryDirectory(prefix="script-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        began = time.monotonic()
        code, timed_out = _server.run((str(script), argv, str(cwd), str(out), str(err), dict(env or os.environ)),
                                      timeout)  # fmt: skip
        if timed_out:
            raise subprocess.TimeoutExpired([str(script), *argv], timeout, out.read_bytes(), err.read_bytes())
        return Completed(code, out.read_bytes(), err.read_bytes(), time.monotonic() - began)


def _send(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("q", len(data)) + data)


def _receive(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _serve(sock: socket.socket) -> None:
    """The server's loop; it ends (exits) when the test process closes its end."""
    try:
        while True:
            (size,) = struct.unpack("q", _receive(sock, 8))
            request = pickle.loads(_receive(sock, size))
            pid = os.fork()
            if pid == 0:
                sock.close()
                _main(*request)  # never returns
            sock.sendall(struct.pack("q", pid))
            sock.sendall(struct.pack("q", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])))
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    os._exit(0)


def _main(script: str, argv: list[str], cwd: str, out: str, err: str, env: dict[str, str]) -> None:
    """The child: what the interpreter does for `python script argv...`, then exit with its status."""
    faulthandler.disable()  # pytest enabled it on its own copy of stderr
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):  # fmt: skip
        target = os.open(path, flags)
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
