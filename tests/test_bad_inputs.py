"""The scripts fed what real users and real disks hand them: symlink loops, damaged models, zero-byte
and huge images, 10,000 files, names that are not UTF-8, broken videos, streams that never answer,
bad flags, folders that are not ours, a busy port. Each runs as users run it, as a process of its own, and
must end with the right exit status, at most a line or two of message and no traceback, having
processed every good input and left every file that was there before as it was."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import detect as detect_py
from facemask.files import folder_files, glob_files
from facemask.owned_dirs import mark
from tests.conftest import SHARED_DATASETS, background, draw_faces, free_port
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "weights" / "face_masks.pt"
CROWD = SHARED_DATASETS / "aditya276-face-mask-dataset-yolo-format" / "images" / "test" / "phplpE73q.jpg"
USER_ERROR = 2
RUN_FAILED = 1  # detect.py: a camera that cannot be reached, to be started again


# --- helpers ---------------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def messages(self) -> list[str]:
        """Lines of stdout and stderr, without argparse's usage block (the standard reminder of the
        flags, before its one error line)."""
        lines, in_usage = [], False
        for line in (self.err + self.out).splitlines():
            in_usage = line.startswith("usage:") or (in_usage and line.startswith(" "))
            if line.strip() and not in_usage:
                lines.append(line)
        return lines


def script(name: str, *args: str | os.PathLike, cwd: Path, timeout: float = 180) -> Result:
    """Run `python <name> args...` from `cwd` (tests/scripts.py: a process of its own, forked warm);
    bytes that are not UTF-8 in its output are kept as \\xNN."""
    done = run_script(ROOT / name, args, cwd, timeout)
    decode = lambda b: b.decode("utf-8", "backslashreplace")  # noqa: E731
    return Result(done.code, decode(done.out), decode(done.err), done.seconds)


def assert_refused(result: Result, prog: str, *needles: str) -> str:
    """Exit status 2 with one `prog: error: ...` line holding every needle, no traceback, hardly
    anything else (ultralytics may add a warning line). Returns the error line."""
    assert "Traceback" not in result.err + result.out, result.err
    assert result.code == USER_ERROR, result.err + result.out
    errors = [line for line in result.messages if line.startswith(f"{prog}: error: ")]
    assert len(errors) == 1 and len(result.messages) <= 3, result.messages
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def snapshot(*roots: Path) -> dict[bytes, object]:
    """Every file, folder and link under `roots` with its content hash (or link target): two equal
    snapshots mean nothing was changed, added or removed. Names are bytes (some are not UTF-8);
    links are recorded, not followed, so loops are harmless."""
    seen: dict[bytes, object] = {}
    for root in roots:
        for folder, dirs, files in os.walk(os.fsencode(root)):
            for name in dirs + files:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    seen[path] = ("link", os.readlink(path))
                elif os.path.isdir(path):
                    seen[path] = "dir"
                else:
                    try:
                        with open(path, "rb") as f:
                            seen[path] = hashlib.sha256(f.read()).hexdigest()
                    except PermissionError:  # an unreadable file: its size and time stand for it
                        st = os.stat(path)
                        seen[path] = ("unreadable", st.st_size, st.st_mtime_ns)
    return seen


def detect_summary(project: Path) -> dict:
    """summary.json of the single run under `project`."""
    (run,) = [p for p in project.iterdir() if p.is_dir()]
    return json.loads((run / "summary.json").read_text())


def photo(path: Path, seed: int = 0) -> Path:
    draw_faces(background(seed), [((0, 200, 0), (20, 30, 60, 80))]).save(path)
    return path


def clip(path: Path, frames: int = 12) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for i in range(frames):
        writer.write(np.asarray(background(i % 3))[:, :, ::-1].copy())
    writer.release()
    return path


def flat_png(path: Path, width: int, height: int, rgb: tuple[int, int, int] = (120, 130, 140)) -> Path:
    """A one-colour RGB PNG written row by row: 14000x14000 is 588 MB of pixels but 2.5 MB of file,
    made without ever holding the image in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row, z = b"\0" + bytes(rgb) * width, zlib.compressobj(1)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def model(trained_run: Path, tmp_path_factory) -> Path:
    """The suite's tiny trained model, copied so that every test can check it is left as it was."""
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    path.write_bytes((trained_run / "weights" / "best.pt").read_bytes())
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    photo(folder / "a.jpg", 0)
    photo(folder / "b.jpg", 1)
    return folder


def detect(model: Path, source: str | os.PathLike, tmp_path: Path, *args: str, timeout: float = 180) -> Result:
    return script(
        "detect.py",
        "--weights",
        model,
        "--source",
        source,
        "--project",
        tmp_path / "runs",
        "--imgsz",
        "64",
        *args,
        cwd=tmp_path,
        timeout=timeout,
    )


# --- folders and globs ------------------------------------------------------------------------------


def test_symlink_loops_end_and_each_photo_counts_once(model, photos, tmp_path) -> None:
    (photos / "loop").symlink_to(".")  # photos/loop -> photos
    (photos / "sub").mkdir()
    (photos / "sub" / "up").symlink_to("..")  # photos/sub/up -> photos
    before = snapshot(photos, model)
    for name, source in (("folder", photos), ("glob", f"{photos}/**/*.jpg")):
        result = detect(model, source, tmp_path, "--nosave", "--name", name, timeout=120)
        assert result.code == 0 and "Traceback" not in result.err, result.err
        assert result.seconds < 60
        assert json.loads((tmp_path / "runs" / name / "summary.json").read_text())["images"] == 2
    assert snapshot(photos, model) == before


def test_safe_walker_matches_glob_where_glob_ends(tmp_path, monkeypatch) -> None:
    import glob

    for rel in ("x.jpg", "a/y.jpg", "a/b/z.jpg", "a/b/c/x.jpg", ".hidden/h.jpg", "a/.dot.jpg", "d/q.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(rel.encode())
    (tmp_path / "d" / "link").symlink_to("../a")  # a link, not a loop: glob lists a's files twice
    monkeypatch.chdir(tmp_path)
    for pattern in (
        "*.jpg",
        "**/*.jpg",
        "a/**/*.jpg",
        "*/*.jpg",
        "**",
        ".*/*.jpg",
        "**/x.jpg",
        "d/**/*.jpg",
        "[ad]/*",
        f"{tmp_path}/**/b/**/*.jpg",
    ):
        expected = {os.path.realpath(f) for f in glob.glob(pattern, recursive=True) if os.path.isfile(f)}
        found = glob_files(pattern)
        assert len(found) == len(expected) and {os.path.realpath(f) for f in found} == expected, pattern
    assert folder_files("a") == ["a/y.jpg"]
    (tmp_path / "a" / "b" / "loop").symlink_to("..")
    (tmp_path / "self").symlink_to("self")  # a link to itself
    assert glob_files("**/*.jpg") == ["a/b/c/x.jpg", "a/b/z.jpg", "a/y.jpg", "x.jpg"]


def test_ten_thousand_files_finish_and_warnings_stay_few(model, tmp_path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"{i:05}.jpg").write_bytes(b"x")  # not images: skipped, each quickly
    photo(folder / "good1.jpg", 1)
    photo(folder / "good2.jpg", 2)
    result = detect(model, folder, tmp_path, "--nosave", timeout=240)
    assert result.code == 0 and "Traceback" not in result.err, result.err[-2000:]
    assert result.seconds < 180
    summary = detect_summary(tmp_path / "runs")
    assert summary["images"] == 2 and summary["skipped"] == {"not an image or video": 10_000}
    assert result.err.count("WARNING") <= 25  # named up to 20, then counted


def test_bad_files_beside_good_ones_are_skipped_and_nothing_crashes(model, photos, tmp_path) -> None:
    """Zero-byte, truncated and text 'images', a name that is not UTF-8, an unreadable file, a video
    damaged in the middle, a truncated one and a video whose name is not UTF-8 (OpenCV segfaults on
    such a path), all in one folder."""
    (photos / "zero.jpg").write_bytes(b"")
    (photos / "text.jpg").write_text("not a JPEG")
    good = (photos / "a.jpg").read_bytes()
    (photos / "cut.jpg").write_bytes(good[: len(good) // 3])
    with open(os.path.join(os.fsencode(photos), b"caf\xe9 \xff.jpg"), "wb") as f:  # Latin-1 bytes, not UTF-8
        f.write(good)
    locked = photo(photos / "locked.jpg", 3)
    locked.chmod(0)
    root = os.geteuid() == 0 or os.access(locked, os.R_OK)  # root reads it all the same
    video = clip(tmp_path / "clip.mp4").read_bytes()
    broken = bytearray(video)
    broken[len(video) // 2 : len(video) // 2 + 2000] = os.urandom(2000)
    (photos / "broken.mp4").write_bytes(bytes(broken))
    (photos / "short.mp4").write_bytes(video[: len(video) // 2])  # no index: cannot be opened
    with open(os.path.join(os.fsencode(photos), b"clip\xff.mp4"), "wb") as f:
        f.write(video)
    before = snapshot(photos, model)
    try:
        result = detect(model, photos, tmp_path, "--save-txt", "--save-json")
        assert snapshot(photos, model) == before
    finally:
        locked.chmod(0o644)
    assert result.code == 0 and "Traceback" not in result.err, result.err
    summary = detect_summary(tmp_path / "runs")
    assert summary["images"] == 3 + root  # a, b, the Latin-1 name (and the locked one, read by root)
    assert summary["frames"] >= 12 + 1  # the non-UTF-8 video, and what the damaged one still gives
    expected = {"not an image or video": 2, "unreadable image": 1, "unreadable video": 1}
    assert summary["skipped"] == expected | ({} if root else {"permission denied": 1})
    labels = os.listdir(tmp_path / "runs" / "exp" / "labels")
    assert "caf\ufffd \ufffd.txt" in labels and "clip\ufffd_0.txt" in labels  # written under a UTF-8 name


def test_huge_png_is_read_reduced(model, tmp_path) -> None:
    """196 Mpx: beyond the 179 Mpx at which Pillow refuses an image outright (a decompression bomb)."""
    huge = flat_png(tmp_path / "huge.png", 14_000, 14_000)
    result = detect(model, huge, tmp_path, "--save-json", "--nosave")
    assert result.code == 0 and "Traceback" not in result.err, result.err
    record = json.loads(next((tmp_path / "runs").glob("*/predictions.json")).read_text())[0]
    assert (record["width"], record["height"]) == (14_000, 14_000)


@pytest.mark.skipif(not CROWD.is_file(), reason="needs the aditya276 dataset in ../shared/datasets")
def test_16_bit_grayscale_finds_the_faces_8_bit_does(tmp_path) -> None:
    """Pillow reads a 16-bit PNG as mode I;16, whose values (up to 65535) plain conversion clips to
    white: no face found. Scaled to 8 bits it is the same photo."""
    folder = tmp_path / "gray"
    folder.mkdir()
    gray = Image.open(CROWD).convert("L")
    gray.save(folder / "gray8.png")
    Image.fromarray(np.asarray(gray).astype(np.uint16) * 257).save(folder / "gray16.png")
    assert Image.open(folder / "gray16.png").mode == "I;16"
    result = script(
        "detect.py",
        "--weights",
        SHIPPED,
        "--source",
        folder,
        "--project",
        tmp_path / "runs",
        "--save-json",
        "--nosave",
        cwd=tmp_path,
    )
    assert result.code == 0, result.err
    records = json.loads(next((tmp_path / "runs").glob("*/predictions.json")).read_text())
    faces = {Path(r["source"]).stem: len(r["detections"]) for r in records}
    assert faces["gray8"] >= 5 and faces["gray16"] >= 0.8 * faces["gray8"], faces


def _list_not_utf8(d: Path) -> Path:
    (d / "list.txt").write_bytes(b"caf\xe9.jpg\n")
    return d / "list.txt"


def _empty_folder(d: Path) -> Path:
    (d / "empty").mkdir()
    return d / "empty"


def _only_a_loop(d: Path) -> Path:
    (d / "loops").mkdir()
    (d / "loops" / "loop").symlink_to(".")
    return d / "loops"


@pytest.mark.parametrize(
    ("make", "needle"),
    [(_list_not_utf8, "not UTF-8 text"), (_empty_folder, "no files in"), (_only_a_loop, "no files in")],
    ids=["list not UTF-8", "empty folder", "only a loop"],
)
def test_sources_with_nothing_to_read_are_one_line(model, tmp_path, make, needle) -> None:
    assert_refused(detect(model, make(tmp_path), tmp_path), "detect.py", needle)
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A local server that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/stream"
    server.close()
    for conn in held:
        conn.close()


def test_a_stream_that_never_answers_times_out(model, tmp_path, silent_server) -> None:
    """A camera that does not answer is no mistake to mend: exit 1, so a service manager tries again later."""
    result = detect(model, silent_server, tmp_path, "--stream-timeout", "1.5", timeout=90)
    assert "Traceback" not in result.err and result.code == RUN_FAILED, result.err
    (line,) = [m for m in result.messages if m.startswith("detect.py: failed: cannot open stream http://127.0.0.1:")]
    assert "no answer within 1.5 s" in line
    assert result.seconds < 30
    assert detect_py.parse_opt(["--source", "rtsp://cam/1"]).stream_timeout == 10  # when not told
    assert not (tmp_path / "runs").exists()


# --- models -----------------------------------------------------------------------------------------


def _flip_bytes(path: Path, good: bytes) -> None:
    """Zero 64 bytes in the middle of the largest tensor: torch loads that silently, as wrong weights."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    name_len, extra_len = struct.unpack("<HH", good[info.header_offset + 26 : info.header_offset + 30])
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    path.write_bytes(good[:at] + bytes(64) + good[at + 64 :])


BAD_MODELS = {
    "empty": (lambda p, good: p.write_bytes(b""), "is empty"),
    "truncated": (lambda p, good: p.write_bytes(good[: len(good) // 2]), "truncated or damaged"),
    "flipped bytes": (_flip_bytes, "is damaged (wrong checksum"),
    "text": (lambda p, good: p.write_text("just some notes\n"), "is a text file"),
    "git lfs pointer": (
        lambda p, good: p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 5\n"),
        "git lfs pull",
    ),
    "jpeg named .pt": (lambda p, good: p.write_bytes((ROOT / "examples" / "bus.jpg").read_bytes()), "is an image"),
    "pickle, not a model": (lambda p, good: torch.save({"weights": [1, 2, 3]}, p), "not a YOLO model"),
}


def _bad_model(tmp_path: Path, model: Path, kind: str) -> tuple[Path, str]:
    make, needle = BAD_MODELS[kind]
    bad = tmp_path / "bad.pt"
    make(bad, model.read_bytes())
    return bad, needle


@pytest.mark.parametrize("kind", list(BAD_MODELS))
def test_detect_refuses_a_bad_model_in_one_line(model, photos, tmp_path, kind) -> None:
    bad, needle = _bad_model(tmp_path, model, kind)
    before = snapshot(tmp_path)
    line = assert_refused(detect(bad, photos, tmp_path), "detect.py", str(bad), needle, "--weights")
    assert "--cfg" not in line  # detect.py has no --cfg
    assert snapshot(tmp_path) == before  # no run folder either


def test_detect_refuses_a_damaged_onnx_export_in_one_line(photos, tmp_path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(os.urandom(4000))
    assert_refused(detect(bad, photos, tmp_path), "detect.py", str(bad), "cannot be read as an ONNX model")


SCRIPT_MODELS = [
    ("val.py", "truncated"),
    ("val.py", "jpeg named .pt"),
    ("export.py", "empty"),
    ("export.py", "text"),
    ("train.py", "flipped bytes"),
    ("train.py", "git lfs pointer"),
]


@pytest.mark.parametrize(("prog", "kind"), SCRIPT_MODELS)
def test_every_script_refuses_a_bad_model_with_its_own_hint(model, tiny_data, tmp_path, prog, kind) -> None:
    bad, needle = _bad_model(tmp_path, model, kind)
    args = {
        "val.py": ["--data", tiny_data, "--project", tmp_path / "runs"],
        "export.py": [],
        "train.py": ["--data", tiny_data, "--project", tmp_path / "runs", "--wandb", "disabled"],
    }[prog]
    before = snapshot(tmp_path, tiny_data.parent)
    line = assert_refused(script(prog, "--weights", bad, *args, cwd=tmp_path), prog, str(bad), needle)
    assert ("--cfg" in line) == (prog == "train.py")  # only train.py has --cfg
    assert ("export of one" in line) == (prog == "val.py")  # export and train take a .pt only
    assert snapshot(tmp_path, tiny_data.parent) == before


def test_a_model_that_does_not_exist_gets_a_hint_that_fits(tiny_data, tmp_path) -> None:
    line = assert_refused(script("val.py", "--weights", "nope.pt", "--data", tiny_data, cwd=tmp_path), "val.py")
    assert "no such checkpoint" in line and "--weights weights/face_masks.pt" in line and "--cfg" not in line


def test_a_device_this_machine_lacks_is_one_line(model, photos, tmp_path) -> None:
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a GPU 7")
    assert_refused(detect(model, photos, tmp_path, "--device", "7"), "detect.py", "--device 7", "--device cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine can export to TensorRT")
def test_export_to_tensorrt_without_a_gpu_is_one_line(model, tmp_path) -> None:
    result = script("export.py", "--weights", model, "--include", "engine", cwd=tmp_path)
    assert_refused(result, "export.py", "--include engine", "CUDA GPU")


def test_app_shows_a_damaged_model_as_a_message(tmp_path, monkeypatch) -> None:
    import gradio as gr

    import app
    from facemask.app import service as webapp

    (tmp_path / "broken.pt").write_bytes(b"")
    monkeypatch.setattr(webapp, "WEIGHTS_DIR", tmp_path)
    webapp._load.cache_clear()
    with pytest.raises(gr.Error) as e:
        app.detect_image(str(ROOT / "examples" / "bus.jpg"), "broken.pt", 0.25, 0.45, False)
    assert e.value.message.startswith("The model broken.pt is empty (0 bytes); choose another model")
    assert str(tmp_path) not in e.value.message and "--weights" not in e.value.message  # no server path, no flag
    webapp._load.cache_clear()


# --- flags ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prog", "args", "needle"),
    [
        ("detect.py", ["--imgsz", "0"], "argument --imgsz/--img/--img-size: must be an integer from 32 to 8192"),
        ("detect.py", ["--imgsz", "-640"], "from 32 to 8192, not -640"),
        ("detect.py", ["--img", "100000"], "from 32 to 8192, not 100000"),
        ("detect.py", ["--imgsz", "big"], "must be an integer"),
        ("detect.py", ["--conf-thres", "1.5"], "argument --conf-thres: must be a number from 0 to 1"),
        ("detect.py", ["--conf-thres", "nan"], "from 0 to 1, not nan"),
        ("detect.py", ["--iou-thres", "-0.1"], "argument --iou-thres: must be a number from 0 to 1"),
        ("detect.py", ["--max-det", "0"], "argument --max-det: must be an integer at least 1"),
        ("detect.py", ["--vid-stride", "0"], "argument --vid-stride: must be an integer at least 1"),
        ("detect.py", ["--interval", "0"], "argument --interval: must be a number above 0"),
        ("detect.py", ["--zone", "1,2,3"], "argument --zone:"),
        ("detect.py", ["--tracker", "nope.yaml"], "argument --tracker:"),
        ("val.py", ["--batch-size", "0"], "argument --batch-size/--batch: must be an integer at least 1"),
        ("val.py", ["--img", "0"], "from 32 to 8192"),
        ("val.py", ["--iou-thres", "2"], "from 0 to 1"),
        ("export.py", ["--imgsz", "99999"], "from 32 to 8192"),
        ("export.py", ["--batch", "0"], "at least 1"),
        ("export.py", ["--fraction", "0"], "argument --fraction: must be a number above 0 and at most 1"),
        ("train.py", ["--epochs", "0"], "argument --epochs: must be an integer at least 1"),
        ("train.py", ["--batch", "0"], "at least 1 (or -1)"),
        ("train.py", ["--img", "16"], "from 32 to 8192"),
        ("train.py", ["--seed", "-1"], "argument --seed"),
        ("audit_labels.py", ["--conf-thres", "2"], "argument --conf-thres: must be a number from 0 to 1"),
        ("audit_labels.py", ["--folds", "1"], "argument --folds: must be an integer at least 2 (or 0), not 1"),
        ("audit_labels.py", ["--fold-batch", "0"], "argument --fold-batch: must be an integer at least 1"),
    ],
)
def test_bad_numbers_are_refused_when_parsed(tmp_path, monkeypatch, capsys, prog, args, needle) -> None:
    """In-process: the script's own parse_opt, as its command line calls it (a subprocess per flag cost a
    torch import each; test_a_bad_number_is_refused_from_the_command_line runs one as users do)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [prog])  # argparse names the program after argv[0]
    module = importlib.import_module(prog.removesuffix(".py"))
    with pytest.raises(SystemExit) as exit_:
        module.parse_opt(args)
    out = capsys.readouterr()
    assert_refused(Result(exit_.value.code, out.out, out.err, 0.0), prog, needle)
    assert not any(tmp_path.iterdir())


def test_a_bad_number_is_refused_from_the_command_line(tmp_path) -> None:
    """In a fresh interpreter, exactly as a user types it (the other tests fork theirs warm)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "detect.py"), "--conf-thres", "1.5"],
        capture_output=True,
        cwd=tmp_path,
        text=True,
        timeout=120,
    )
    assert_refused(Result(done.returncode, done.stdout, done.stderr, 0.0), "detect.py", "from 0 to 1")
    assert not any(tmp_path.iterdir())


# --- output folders ---------------------------------------------------------------------------------


def _users_folder(runs: Path) -> str:
    (runs / "mine").mkdir(parents=True)
    (runs / "mine" / "notes.txt").write_text("mine")
    return "mine"


def _a_file(runs: Path) -> str:
    runs.mkdir(parents=True)
    (runs / "afile").write_text("a file")
    return "afile"


def _a_val_run(runs: Path) -> str:
    mark(runs / "v", "val")
    (runs / "v" / "metrics.json").write_text("{}")
    return "v"


@pytest.mark.parametrize(
    ("make", "needle"),
    [(_users_folder, "did not write"), (_a_file, "is a file"), (_a_val_run, "holds this project's val output")],
    ids=["a user's folder", "a file", "another kind of run"],
)
def test_exist_ok_never_writes_into_what_is_not_a_detect_run(model, photos, tmp_path, make, needle) -> None:
    name = make(tmp_path / "runs")
    before = snapshot(tmp_path, model)
    assert_refused(detect(model, photos, tmp_path, "--name", name, "--exist-ok"), "detect.py", needle)
    assert snapshot(tmp_path, model) == before


def test_output_overlapping_the_source_is_refused(model, photos, tmp_path) -> None:
    before = snapshot(tmp_path, model)
    result = script(
        "detect.py",
        "--weights",
        model,
        "--source",
        photos,
        "--project",
        tmp_path,
        "--name",
        "photos",
        "--exist-ok",
        "--imgsz",
        "64",
        cwd=tmp_path,
    )
    assert_refused(result, "detect.py", "overlaps the input")
    assert snapshot(tmp_path, model) == before


def test_exist_ok_reuses_a_detect_run_it_made(model, photos, tmp_path) -> None:
    for _ in range(2):
        result = detect(model, photos, tmp_path, "--name", "same", "--exist-ok")
        assert result.code == 0, result.err
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["same"]
    assert detect_summary(tmp_path / "runs")["images"] == 2


# --- label files and dataset yamls -----------------------------------------------------------------

BAD_LABELS = {  # a line added to a training label -> what the audit says of it
    "0 nan 0.5 0.1 0.1": "cx is nan, not a fraction of the image's size from 0 to 1",
    "0 0.5 inf 0.1 0.1": "cy is inf, not a fraction",
    "7 0.5 0.5 0.1 0.1": "class 7 is not one of the dataset's classes (0, 1)",
    "0 -0.5 0.5 0.1 0.1": "cx is -0.5, not a fraction",
    "1 0.5 0.5 5 0.1": "w is 5, not a fraction",
}


def test_audit_skips_each_image_with_a_bad_label_in_one_line_and_audits_the_rest(model, tiny_data, tmp_path) -> None:
    """A bad line skips its image, as ultralytics' training does: the rest is audited, then summed up."""
    root = tmp_path / "ds"
    shutil.copytree(yaml.safe_load(tiny_data.read_text())["path"], root)
    bad = {}  # label file -> (line number, what the warning says)
    labels = sorted((root / "labels" / "train").glob("*.txt"))[: len(BAD_LABELS)]
    for label, (line, needle) in zip(labels, BAD_LABELS.items(), strict=True):
        lines = label.read_text().splitlines()
        label.write_text("".join(f"{ln}\n" for ln in [*lines, line]))
        bad[label.name] = (len(lines) + 1, needle)
    before = snapshot(root, model)
    result = script(
        "audit_labels.py",
        "--weights",
        model,
        "--data",
        root / "data.yaml",
        "--imgsz",
        "64",
        "--project",
        tmp_path / "runs",
        cwd=tmp_path,
    )
    assert result.code == 0 and "Traceback" not in result.err, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("WARNING: skipped ")]
    assert len(warnings) == len(BAD_LABELS), warnings
    for name, (lineno, needle) in bad.items():
        (warning,) = [w for w in warnings if f"bad label ({name}:{lineno}: " in w]
        assert needle in warning and str(root / "images" / "train" / Path(name).stem) in warning
    summary = json.loads((tmp_path / "runs" / "exp" / "summary.json").read_text())
    assert summary["skipped"] == {"bad label": len(BAD_LABELS)}
    assert summary["sources"]["total"]["images"] == 40 - len(BAD_LABELS)
    assert f"Skipped {len(BAD_LABELS)} of 40 images" in result.out
    assert snapshot(root, model) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "nope.yaml"], "data yaml not found: nope.yaml"),
        (["--data", "list.yaml"], "list.yaml: a data yaml holds 'key: value' entries, not a list"),
        (["--apply", "missing=maybe"], "--apply takes missing=add|ignore|none, not 'missing=maybe'"),
        (["--apply", "missing=add", "--split", "val"], "audit the train split, and give --out"),
    ],
    ids=["no data yaml", "a yaml list", "bad --apply", "--apply without train"],
)
def test_audit_user_errors_are_one_line(model, tiny_data, tmp_path, args, needle) -> None:
    (tmp_path / "list.yaml").write_text("- images/train\n- images/val\n")
    before = snapshot(tmp_path, tiny_data.parent)
    result = script(
        "audit_labels.py", "--weights", model, "--data", tiny_data, "--project", tmp_path / "runs", *args, cwd=tmp_path
    )
    assert_refused(result, "audit_labels.py", needle)
    assert snapshot(tmp_path, tiny_data.parent) == before


@pytest.mark.parametrize("text", ["- voc\n- yolo\n", "42\n"], ids=["a list", "a number"])
def test_a_sources_config_that_is_no_mapping_is_one_line(tmp_path, text) -> None:
    (tmp_path / "sources.yaml").write_text(text)
    (tmp_path / "sets").mkdir()
    before = snapshot(tmp_path)
    result = script(
        "prepare_data.py",
        "--sources",
        "sets",
        "--config",
        "sources.yaml",
        "--out",
        "out",
        "--data",
        "d.yaml",
        cwd=tmp_path,
    )
    assert_refused(result, "prepare_data.py", "sources.yaml: a sources config holds 'key: value' entries")
    assert snapshot(tmp_path) == before


def _users_yaml(d: Path) -> str:
    (d / "my.yaml").write_text("# my own settings\nepochs: 3\ntrain: /data/mine\n")
    return "my.yaml"


def _our_yaml_edited(d: Path) -> str:
    from facemask.data.data_yaml import write_data_yaml

    write_data_yaml(d / "ours.yaml", ["Mask", "No Mask"], "datasets/face_masks")
    with (d / "ours.yaml").open("a") as f:
        f.write("download: https://example.com/my-notes\n")  # the user's own line
    return "ours.yaml"


def _a_folder(d: Path) -> str:
    (d / "a.yaml").mkdir()
    (d / "a.yaml" / "notes.txt").write_text("mine")
    return "a.yaml"


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_users_yaml, "is a file this project did not write"),
        (_our_yaml_edited, "(or one edited since)"),
        (_a_folder, "is a folder, not a file"),
    ],
    ids=["a user's yaml", "ours, edited by its user", "a folder"],
)
def test_exist_ok_never_replaces_a_data_yaml_that_is_not_ours(tmp_path, make, needle) -> None:
    """Refused before anything is read or written, the file byte-identical (the snapshot hashes it)."""
    data = make(tmp_path)
    (tmp_path / "sets").mkdir()
    before = snapshot(tmp_path)
    result = script("prepare_data.py", "--sources", "sets", "--out", "out", "--data", data, "--exist-ok", cwd=tmp_path)
    assert_refused(result, "prepare_data.py", f"--data {data} ", needle, "choose another --data")
    assert snapshot(tmp_path) == before


# --- the app's port ---------------------------------------------------------------------------------


def test_app_on_a_busy_or_impossible_port_says_so(tmp_path) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        assert_refused(script("app.py", "--port", str(port), cwd=tmp_path), "app.py", f"port {port} is taken")
    assert_refused(script("app.py", "--port", "99999", cwd=tmp_path), "app.py", "argument --port", "1 to 65535")
