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

`start_script` starts a script and leaves it running, for tests that signal it (tests/inference/test_signals.py);
`launch_kernel` starts a Jupyter kernel the same way (`python -m ipykernel_launcher`), for
tests/test_notebook.py, whose cells then import torch and ultralytics for free.
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
from typing import Any

# Imported before the server is forked; every module a script imports after these is imported in the child.
PRELOAD = [
    "torch",
    "torchvision",
    "cv2",
    "ultralytics",
    "gradio",
    "facemask.inference.pipeline",
    "facemask.app.service",
]


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


@dataclass
class _Child:
    """What a child is to run: `python target argv...` (or `python -m target` with `module`) in `cwd`,
    its stdout and stderr into files; `session`: in a session (and process group) of its own."""

    target: str
    argv: list[str]
    cwd: str
    out: str
    err: str
    env: dict[str, str]
    module: bool = False
    session: bool = False


class _Server:
    """The forked copy. Requests: ("run", child): fork it, answer its pid, then its exit status;
    ("start", child): fork it and answer its pid; ("poll", pid): the exit status of a started child,
    or None while it runs."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            ours.close()
            _serve(theirs)  # never returns
        theirs.close()
        self.socket = ours
        self.lock = threading.Lock()  # one request at a time

    def ask(self, *request: Any) -> Any:
        with self.lock:
            self.socket.settimeout(None)
            _send(self.socket, request)
            return _receive(self.socket)

    def run(self, child: _Child, timeout: float) -> tuple[int, bool]:
        """(exit status, timed out) of `child`; killed after `timeout` seconds."""
        with self.lock:
            self.socket.settimeout(None)
            _send(self.socket, ("run", child))
            pid = _receive(self.socket)
            self.socket.settimeout(timeout)
            try:
                return _receive(self.socket), False
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self.socket.settimeout(None)
                return _receive(self.socket), True


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


def _the_server() -> _Server:
    if _server is None:
        raise RuntimeError("no script server: tests/conftest.py starts it when pytest starts (pytest_configure)")
    return _server


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
        began = time.monotonic()
        child = _Child(str(script), argv, str(cwd), str(out), str(err), dict(env or os.environ))
        code, timed_out = _the_server().run(child, timeout)
        if timed_out:
            raise subprocess.TimeoutExpired([str(script), *argv], timeout, out.read_bytes(), err.read_bytes())
        return Completed(code, out.read_bytes(), err.read_bytes(), time.monotonic() - began)


class Started:
    """A started child, as much of subprocess.Popen as jupyter_client's kernel provisioner uses."""

    stdin = stdout = stderr = None  # its output goes to files (launch_kernel)

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _the_server().ask("poll", self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def start_script(
    script: Path, args: Iterable[str | os.PathLike], cwd: Path, env: Mapping[str, str] | None = None
) -> Started:
    """`python script args...` in `cwd`, left running for the test to signal and wait for (Started.wait);
    its output goes to script.stdout and script.stderr in `cwd`."""
    argv = [os.fsdecode(a) for a in args]
    child = _Child(
        str(script), argv, str(cwd), str(cwd / "script.stdout"), str(cwd / "script.stderr"), dict(env or os.environ)
    )
    return Started(_the_server().ask("start", child))


def launch_kernel(cmd: list[str], env: Mapping[str, str] | None = None, cwd: str | None = None, **_: Any) -> Started:
    """jupyter_client.launcher.launch_kernel for `python -m ipykernel_launcher -f <connection file>`,
    forked from the server in a session of its own (the provisioner signals its process group); its
    output goes to kernel.stdout and kernel.stderr in its working directory (the test's)."""
    _python, flag, module, *argv = cmd
    if flag != "-m":
        raise ValueError(f"not a `python -m module` kernel command: {cmd}")
    folder = Path(cwd or os.getcwd())
    child = _Child(
        module,
        argv,
        str(folder),
        str(folder / "kernel.stdout"),
        str(folder / "kernel.stderr"),
        dict(env or os.environ),
        module=True,
        session=True,
    )
    return Started(_the_server().ask("start", child))


def _send(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("q", len(data)) + data)


def _receive(sock: socket.socket) -> Any:
    (size,) = struct.unpack("q", _read(sock, 8))
    return pickle.loads(_read(sock, size))


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _serve(sock: socket.socket) -> None:
    """The server's loop; it ends (exits) when the test process closes its end."""
    started: dict[int, int | None] = {}  # pid -> exit status (None: running) of the children started
    try:
        while True:
            kind, arg = _receive(sock)
            if kind == "poll":
                if started.get(arg) is None:
                    done, status = os.waitpid(arg, os.WNOHANG)
                    if done:
                        started[arg] = os.waitstatus_to_exitcode(status)
                _send(sock, started[arg])
                continue
            ready_r, ready_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                sock.close()
                os.close(ready_r)
                _main(arg, ready_w)  # never returns
            os.close(ready_w)
            os.read(ready_r, 1)  # the child is in its own session when it should be, before its pid is known
            os.close(ready_r)
            _send(sock, pid)
            if kind == "run":
                _send(sock, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            else:
                started[pid] = None
    except (EOFError, OSError, KeyboardInterrupt):
        pass
    os._exit(0)


def _main(child: _Child, ready: int) -> None:
    """The child: what the interpreter does for `python target argv...`, then exit with its status."""
    if child.session:
        os.setsid()
    os.write(ready, b"!")
    os.close(ready)
    faulthandler.disable()  # pytest enabled it on its own copy of stderr
    # Ctrl-C as in a terminal: a test run started in the background (`.ci/run &`) inherits an ignored
    # SIGINT, which the interpreter keeps, and a test's SIGINT to a review server would then do nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, child.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, child.err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        target = os.open(path, flags)
        os.dup2(target, fd)
        os.close(target)
    os.environ.clear()
    os.environ.update(child.env)
    os.chdir(child.cwd)
    sys.argv = [child.target, *child.argv]
    sys.path.insert(0, child.cwd if child.module else os.path.dirname(child.target))  # as python does
    code = 0
    try:
        if child.module:
            runpy.run_module(child.target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(child.target, run_name="__main__")
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
