"""detect.py --source cams.streams --track stopped by Ctrl-C (SIGINT) or SIGTERM (docker stop, systemd,
kill) at several moments, as real processes (tests/scripts.py, tests/inference/slow_detect.py): while
Python imports torch, while the model loads, mid-run after one camera has finished, and while the run
saves at its end. Each stop ends the run as the end of the videos would, keeping everything seen so far
(summary.json, people.csv with every settled person, each camera's interval files, the charts and the
videos), and exits 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import pytest

from tests.inference.test_tracking import N, make_video, read_csv
from tests.scripts import Started, start_script
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SIDE = 15  # frames of the side door's video; the entrance has N


@pytest.fixture
def cameras(tmp_path: Path) -> Path:
    """entrance (N frames: 3 people) and side (the same scene cut after SIDE frames: 2 people, 1 masked)."""
    make_video(tmp_path / "entrance.mp4")
    make_video(tmp_path / "side.mp4", frames=SIDE)
    (tmp_path / "cams.streams").write_text("entrance.mp4\nside.mp4\n")
    return tmp_path / "cams.streams"


def start(cameras: Path, folder: str, weights: Path, frame_s: float = 0.0, signal_at: str = "") -> Started:
    """slow_detect.py on the cameras, run in `folder` beside them (output in folder/runs/exp)."""
    cwd = cameras.parent / folder
    cwd.mkdir()
    env = {**os.environ, "FACEMASK_TEST_FRAME_S": str(frame_s), "FACEMASK_TEST_SIGNAL": signal_at}
    args = ["--weights", weights, "--source", cameras, "--track", "--interval", "2", "--project", cwd / "runs"]
    return start_script(ROOT / "tests" / "inference" / "slow_detect.py", args, cwd, env)


def output(cameras: Path, folder: str) -> tuple[str, str]:
    cwd = cameras.parent / folder
    return (cwd / "script.stdout").read_text(), (cwd / "script.stderr").read_text()


def people_of(run: Path, camera: str) -> list[dict[str, str]]:
    path = run / "people.csv"
    return [r for r in read_csv(path) if r["source"] == camera] if path.is_file() else []


def assert_saved(cameras: Path, folder: str, stopped_by: str) -> dict:
    """Every file of the tracked run in `folder` is complete and agrees with the others; its summary."""
    run = cameras.parent / folder / "runs" / "exp"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stopped_by"] == stopped_by
    people = summary["people"]
    counted = {source: s["people"] for source, s in people["sources"].items()}
    assert Counter(r["source"] for r in read_csv(run / "people.csv")) == counted  # every settled person
    assert people["total"]["people"] == sum(counted.values())
    for stem in ("entrance", "side"):
        tracking = json.loads((run / f"{stem}_tracking.json").read_text())
        intervals = read_csv(run / f"{stem}_compliance.csv")
        assert sum(int(row["people"]) for row in intervals) == tracking["people"] == counted[source(cameras, stem)]
        assert (run / f"{stem}_compliance.png").stat().st_size > 0
        assert cv2.VideoCapture(str(run / f"{stem}.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) > 0  # finished, playable
    assert (run / "compliance.png").stat().st_size > 0
    return summary


def source(cameras: Path, stem: str) -> str:
    """How the run names a camera: its path."""
    return str(cameras.parent / f"{stem}.mp4")


def test_sigterm_mid_run_keeps_the_finished_camera_and_what_the_other_saw(cameras, trained_run) -> None:
    """SIGTERM from outside once the side camera's people are in people.csv: they are written when the side
    video ends, not at the end of the run."""
    process = start(cameras, "run", trained_run / "weights" / "best.pt", frame_s=0.02)
    run = cameras.parent / "run" / "runs" / "exp"
    wait_for(
        lambda: len(people_of(run, source(cameras, "side"))) == 2 or process.poll() is not None,
        "side door's people",
        every_s=0.01,
    )
    assert process.poll() is None, "the run ended before the side camera's people were written"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 143
    stdout, stderr = output(cameras, "run")
    assert "Traceback" not in stderr and stderr.splitlines()[-1] == "detect.py: stopped by SIGTERM"
    summary = assert_saved(cameras, "run", "SIGTERM")
    assert SIDE < summary["frames"] < N + SIDE  # stopped after the side camera ended, before the entrance
    by_source = summary["people"]["sources"]
    side, entrance = by_source[source(cameras, "side")], by_source[source(cameras, "entrance")]
    assert (side["people"], side["masked"]) == (2, 1)
    assert entrance["people"] >= 2  # A and B at least: in view when stopped
    assert "Results saved to" in stdout


def test_a_stop_while_every_camera_is_down_is_a_stop_not_a_failure(tmp_path: Path, trained_run) -> None:
    """A .streams camera is retried for as long as the run lasts; stopped while it is down, the run was
    stopped (143), and summary.json says so, with no `failure` beside `stopped_by`."""
    from tests.conftest import free_port

    (tmp_path / "cams.streams").write_text(f"rtsp://127.0.0.1:{free_port()}/door\n")  # refused at once
    args = ["--weights", trained_run / "weights" / "best.pt", "--source", tmp_path / "cams.streams"]
    process = start_script(
        ROOT / "detect.py", [*args, "--stream-timeout", "1", "--project", tmp_path / "runs"], tmp_path
    )
    stderr = tmp_path / "script.stderr"  # made by the script's process once it starts
    wait_for(
        lambda: (stderr.is_file() and "cannot open" in stderr.read_text()) or process.poll() is not None, "a retry"
    )
    assert process.poll() is None, "the run ended while its camera was being retried"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 143
    summary = json.loads((tmp_path / "runs" / "exp" / "summary.json").read_text())
    assert summary["stopped_by"] == "SIGTERM" and "failure" not in summary
    assert next(iter(summary["sources"].values()))["down"] is True


def test_a_stop_while_the_model_loads_or_the_run_saves(cameras, trained_run) -> None:
    """SIGTERM while the model loads: nothing to save, one line. Ctrl-C while the last chart is drawn: the
    saving goes on to the end (the signal waits), then the run exits 130 with every file whole."""
    weights = trained_run / "weights" / "best.pt"
    loading = start(cameras, "load", weights, signal_at=f"{signal.SIGTERM}:load")
    saving = start(cameras, "save", weights, signal_at=f"{signal.SIGINT}:chart")
    assert loading.wait(60) == 143
    assert output(cameras, "load")[1] == "detect.py: stopped by SIGTERM\n"
    assert not (cameras.parent / "load" / "runs").exists()
    assert saving.wait(60) == 130
    assert "Traceback" not in output(cameras, "save")[1]
    summary = assert_saved(cameras, "save", "SIGINT")
    assert summary["frames"] == N + SIDE
    total = summary["people"]["total"]
    assert (total["people"], total["masked"]) == (5, 3)  # all of both videos: 3 at the entrance, 2 at the side


def caught(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (Linux: SigCgt in /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as f:
        mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    return bool(mask >> (signum - 1) & 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_stop_while_python_imports_torch_is_one_line(tmp_path: Path) -> None:
    """A fresh interpreter, signalled as soon as detect.py has its handlers in place: its imports take seconds.
    One at a time: two started together on a busy machine let the second finish (and fail on the empty
    folder) while the test waited on the first."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        process = subprocess.Popen(
            [sys.executable, ROOT / "detect.py", "--source", tmp_path],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(
            lambda process=process: caught(process.pid, signal.SIGTERM) or process.poll() is not None,
            "signal handlers",
            every_s=0.01,
        )
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
        assert (process.returncode, stdout, stderr) == (128 + signum, "", f"detect.py: stopped by {signum.name}\n")


def run_as_script(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    """`code` run as tmp_path/x.py, to its end; the project is put on its path, as it is not beside it."""
    script = tmp_path / "x.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=60)


# A signal that lands while a C extension runs Python code comes out of it as that extension's own error:
# pydantic_core's SchemaError ("Error building ... Stopped: SIGINT") while fastapi builds its models, a
# pybind11 module's ImportError ("initialization failed") while scipy loads. Here Python plays the extension.
AS_AN_EXTENSION = """
import os, signal, sys, time
from facemask.inference import stopping
stopping.install()
try:
    os.kill(os.getpid(), signal.{signal})
    time.sleep(5)
except KeyboardInterrupt:
    {then}
"""


@pytest.mark.parametrize(
    ("signum", "then", "code", "stderr"),
    [
        (signal.SIGTERM, "raise ImportError('initialization failed') from None", 143, "x.py: stopped by SIGTERM\n"),
        (signal.SIGINT, "raise RuntimeError('Stopped: SIGINT')", 130, "x.py: stopped by SIGINT\n"),
        (signal.SIGINT, "with stopping.held(): open('/nowhere/summary.json', 'w')", 1, "FileNotFoundError"),
    ],
    ids=["import-error", "other-error", "saving-fails"],
)
def test_an_error_that_takes_the_place_of_a_stop_is_that_stop(
    tmp_path: Path, signum: signal.Signals, then: str, code: int, stderr: str
) -> None:
    """One line and 130/143, as the stop would have; but what saves failing is a bug and keeps its traceback."""
    done = run_as_script(tmp_path, AS_AN_EXTENSION.format(signal=signum.name, then=then))
    assert done.returncode == code
    if code == 1:
        assert "Traceback" in done.stderr and done.stderr.splitlines()[-1].startswith(stderr)
    else:
        assert (done.stdout, done.stderr) == ("", stderr)


# importlib drops an error out of the weakref callback that frees a module's lock: a signal landing there
# (CI saw it once while detect.py imported torch) printed "Exception ignored" and the run went on.
WHERE_ERRORS_ARE_DROPPED = """
import os, signal, time, weakref
from facemask.inference import stopping
stopping.install()
class Lock: pass
def freed(_ref):
    os.kill(os.getpid(), signal.{signal})
    time.sleep(1)  # the handler runs here, inside the callback
lock = Lock()
ref = weakref.ref(lock, freed)
del lock
for _ in range(100):
    time.sleep(0.1)
print("went on")
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_where_python_drops_errors_still_stops(tmp_path: Path, signum: signal.Signals) -> None:
    done = run_as_script(tmp_path, WHERE_ERRORS_ARE_DROPPED.format(signal=signum.name))
    assert (done.returncode, done.stdout, done.stderr) == (128 + signum, "", f"x.py: stopped by {signum.name}\n")


# The app's camera wall runs each pipeline (whose end is a held() block) in a thread of its own.
HELD_IN_A_WORKER = """
import os, signal, threading, time
from facemask.inference import stopping
stopping.install()
def camera():
    with stopping.held():
        time.sleep(1)
worker = threading.Thread(target=camera)
worker.start()
time.sleep(0.2)
os.kill(os.getpid(), signal.SIGTERM)  # while the worker holds
for _ in range(100):
    time.sleep(0.1)
print("went on")
"""


def test_a_stop_while_a_worker_thread_saves_stops_the_main_thread(tmp_path: Path) -> None:
    done = run_as_script(tmp_path, HELD_IN_A_WORKER)
    assert (done.returncode, done.stdout, done.stderr) == (143, "", "x.py: stopped by SIGTERM\n")
