"""Real servers for the event, app and benchmark tests, from Debian's packages, each in a temporary folder on
a free loopback port: PostgreSQL (initdb + pg_ctl, run as `nobody` when we are root, since postgres
refuses to run as root) and Mosquitto. `.ci/run` installs both; the tests skip without them, or fail
with FACEMASK_REQUIRE_SERVICES=1. The fixtures below (one server of each per test process, a fresh
database for each test) are registered by tests/conftest.py, so every folder shares the same servers."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

WAIT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


def _user() -> dict:
    """Run the servers as nobody when root (postgres refuses root), else as ourselves."""
    return {"user": "nobody", "group": "nogroup"} if os.geteuid() == 0 else {}


def _temp_dir(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    return folder


def postgres_bin() -> Path | None:
    """The folder of Debian's newest PostgreSQL server binaries, or one on the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    path = found[-1] if found else shutil.which("pg_ctl")
    return Path(path).parent if path else None


class Postgres:
    """A throwaway PostgreSQL server: `start`, `stop` (and start again: the fault test), `destroy`."""

    def __init__(self, bindir: Path, fsync: bool = False):
        self.bindir, self.port, self.folder = bindir, free_port(), _temp_dir("facemask-pg-")
        self.data = self.folder / "data"
        self.options = f"-p {self.port} -h 127.0.0.1 -k {self.folder}" + ("" if fsync else " -c fsync=off")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bindir / tool), *args], check=True, capture_output=True, cwd=self.folder, **_user())

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-o", self.options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Mosquitto:
    """A throwaway Mosquitto broker on a loopback port, anonymous, nothing kept on disk."""

    def __init__(self, binary: str):
        self.port, self.folder = free_port(), _temp_dir("facemask-mqtt-")
        config = self.folder / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        config.chmod(0o644)
        self.process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **_user()
        )
        wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def destroy(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def mosquitto_bin() -> str | None:
    return shutil.which("mosquitto") or next(iter(glob.glob("/usr/sbin/mosquitto")), None)


def _missing(what: str) -> None:
    message = f"{what} is not installed (apt-get install -y {what.lower()})"
    if os.environ.get("FACEMASK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}, and FACEMASK_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None:
        _missing("PostgreSQL")
    server = Postgres(bindir)
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """A new empty database on the running server."""
    if not postgres.running:  # a fault test left it stopped
        postgres.start()
    return postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    binary = mosquitto_bin()
    if binary is None:
        _missing("Mosquitto")
    broker = Mosquitto(binary)
    yield broker
    broker.destroy()
