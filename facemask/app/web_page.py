"""The in-browser page (web/): the model runs on the visitor's own device with ONNX Runtime Web (WebAssembly,
or WebGPU where the browser has it), so photos and the webcam never leave it and the server does no work.

The page's sources (index.html, app.js, yolo.js, style.css) are committed; building adds what it runs, both
git-ignored: the model as ONNX with a model.json of its class names and input size (read from the export's
metadata, never hard-coded in the page), and the runtime's .mjs and .wasm files from the npm package,
installed once into a cache folder, so the built folder works offline and on any static host.

Usage:
    python export.py --format web                                  # builds web/ from weights/face_masks.pt
    python export.py --format web --weights best.pt --web-dir site/  # another model, another folder

Python:
    from facemask.app.web_page import build
    build("weights/face_masks.pt", "site")
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from facemask.errors import FacemaskError
from facemask.paths import PROJECT_ROOT

ORT_VERSION = "1.30.0"  # onnxruntime-web, pinned: the page is tested against this one
PAGE_DIR = PROJECT_ROOT / "web"
SOURCES = ("index.html", "app.js", "yolo.js", "style.css")
MODEL_DIR, RUNTIME_DIR, CONFIG = "model", "ort", "model.json"
# WebAssembly only (14 MB) for most browsers; the WebGPU build (27 MB) only where WebGPU is there. Each visitor
# downloads one pair.
RUNTIME_FILES = (
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    "ort.webgpu.min.mjs",
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
)
BUILD_HINT = "python export.py --format web"
# Cross-origin isolation lets ONNX Runtime use several WebAssembly threads (SharedArrayBuffer); without it,
# on a plain static host, the page runs on one thread.
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
MEDIA_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".onnx": "application/octet-stream",
}


class WebPageError(FacemaskError, RuntimeError):
    """The page cannot be built: no npm to fetch the runtime, or a model the page cannot run."""


def build(
    weights: str | Path, out_dir: str | Path = PAGE_DIR, imgsz: int | None = None, runtime: str | Path | None = None
) -> Path:
    """Make `out_dir` a complete static site: the page's sources (unless it is web/ itself), the model of
    `weights` (a .pt, exported to ONNX here; or an .onnx, copied) with its model.json, and the runtime from
    `runtime` (a node_modules/onnxruntime-web folder; by default the npm cache). Returns `out_dir`."""
    out, weights = Path(out_dir), Path(weights)
    package = Path(runtime) if runtime else runtime_package()
    check_package(package)  # before the export: a missing runtime fails in a second, not after it
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != PAGE_DIR.resolve():
        for name in SOURCES:
            shutil.copy2(PAGE_DIR / name, out / name)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = weights if weights.suffix.lower() == ".onnx" else _export_onnx(weights, imgsz, Path(tmp))
        config = model_config(onnx_path, source=weights.name)
        models = out / MODEL_DIR
        if models.exists():
            shutil.rmtree(models)  # a model from an earlier build must not linger
        models.mkdir()
        shutil.copy2(onnx_path, models / config["model"])
    (models / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    ort = out / RUNTIME_DIR
    ort.mkdir(exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copy2(package / "dist" / name, ort / name)
    (ort / "VERSION.txt").write_text(
        f"onnxruntime-web {ORT_VERSION} (MIT License, github.com/microsoft/onnxruntime)"
        f", copied from npm by `{BUILD_HINT}`\n"
    )
    return out


def _export_onnx(weights: Path, imgsz: int | None, folder: Path) -> Path:
    """The .pt exported to a fixed-size ONNX in `folder` (a copy there, so nothing is written beside it), at
    the size the model was trained at unless `imgsz` says otherwise, as export.py does."""
    from ultralytics.utils import LOGGER

    from facemask.model.checkpoints import PT_HINT, load_model
    from facemask.model.input_size import resolve

    model = load_model(weights, hint=PT_HINT, pytorch_only=True)  # a bad file is named as the user gave it
    size = resolve(imgsz, model, weights)
    print(f"Exporting {weights} to ONNX for the page at {size.describe(weights)}")
    copy = folder / weights.name
    shutil.copy2(weights, copy)
    level = LOGGER.level
    LOGGER.setLevel("WARNING")  # its report names the temporary copy and commands that do not apply here
    try:
        return Path(load_model(copy, hint=PT_HINT, pytorch_only=True).export(format="onnx", imgsz=size.imgsz))
    finally:
        LOGGER.setLevel(level)


def model_config(onnx_path: Path, source: str = "") -> dict[str, Any]:
    """model.json: what the page needs to know about the model, from the ultralytics metadata of the export:
    class names (with the app's colours), input size, and detect.py's default thresholds."""
    import onnx

    from facemask.inference.annotate import CLASS_COLOURS, OTHER
    from facemask.inference.detector import PredictOptions

    graph = onnx.load(str(onnx_path), load_external_data=False)
    meta = {p.key: p.value for p in graph.metadata_props}
    if "names" not in meta or "imgsz" not in meta:
        raise WebPageError(f"{onnx_path.name} has no ultralytics metadata (names, imgsz): export it with export.py")
    if meta.get("task", "detect") != "detect" or meta.get("end2end") == "True":
        raise WebPageError(
            f"{onnx_path.name} is a {meta.get('task')} export with end2end={meta.get('end2end')}; "
            "the page runs detection exports without built-in NMS (export.py's default)"
        )
    names = {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()}
    imgsz = ast.literal_eval(meta["imgsz"])
    imgsz = [int(imgsz), int(imgsz)] if isinstance(imgsz, int) else [int(v) for v in imgsz]
    defaults = PredictOptions()
    return {
        "model": onnx_path.name,
        "names": {str(i): n for i, n in sorted(names.items())},
        "colors": {str(i): CLASS_COLOURS.get(n, OTHER).as_hex() for i, n in sorted(names.items())},
        "imgsz": imgsz,  # [height, width]
        "conf": defaults.conf,
        "iou": defaults.iou,
        "max_det": defaults.max_det,
        "source": source or onnx_path.name,
        "runtime": f"onnxruntime-web {ORT_VERSION}",
    }


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "facemask"


def runtime_package() -> Path:
    """node_modules/onnxruntime-web at ORT_VERSION: $FACEMASK_ORT_DIR if set, else the cache folder, where npm
    installs it on first use (the only step that needs the network)."""
    if os.environ.get("FACEMASK_ORT_DIR"):
        return Path(os.environ["FACEMASK_ORT_DIR"])
    root = cache_dir() / f"onnxruntime-web-{ORT_VERSION}"
    package = root / "node_modules" / "onnxruntime-web"
    if _version(package) == ORT_VERSION:
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise WebPageError(
            f"npm not found: install Node.js (it brings npm) to fetch onnxruntime-web {ORT_VERSION}, "
            "or set FACEMASK_ORT_DIR to a node_modules/onnxruntime-web folder"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".npm-", dir=root.parent))  # installed whole, then moved in place
    try:
        command = [
            npm,
            "install",
            "--prefix",
            str(staging),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"onnxruntime-web@{ORT_VERSION}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode:
            why = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise WebPageError(f"npm install onnxruntime-web@{ORT_VERSION} failed: {why}")
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return package


def _version(package: Path) -> str | None:
    try:
        return json.loads((package / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return None


def check_package(package: Path) -> None:
    """The runtime files the page loads are all in `package`, and it is the version the page was tested with."""
    missing = [n for n in RUNTIME_FILES if not (package / "dist" / n).is_file()]
    if missing:
        raise WebPageError(f"{package} is not an onnxruntime-web package: dist/{missing[0]} is missing")
    if _version(package) != ORT_VERSION:
        raise WebPageError(f"{package} is onnxruntime-web {_version(package)}; the page needs {ORT_VERSION}")


def is_built(folder: str | Path = PAGE_DIR) -> bool:
    folder = Path(folder)
    return (folder / MODEL_DIR / CONFIG).is_file() and all((folder / RUNTIME_DIR / n).is_file() for n in RUNTIME_FILES)


def page_link(folder: str | Path = PAGE_DIR, url: str = "web/") -> str:
    """The app header's line about the page: a link once it is built, else how to build it."""
    if is_built(folder):
        return (
            f'<a href="{url}" target="_blank">Run the detector in your browser</a>: the model runs on your '
            "device (WebAssembly or WebGPU) and nothing is uploaded."
        )
    return f"The in-browser version is not built: run `{BUILD_HINT}` and restart the app to serve it at /{url}."


def routes(folder: str | Path = PAGE_DIR, path: str = "/web") -> list:
    """Starlette routes serving the built page at `path`, for a FastAPI app (the Gradio app's server:
    `demo.launch(app_kwargs={"routes": routes()})`). Served cross-origin isolated, so the page gets threads."""
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    class PageFiles(StaticFiles):
        async def get_response(self, path: str, scope: Any):
            response = await super().get_response(path, scope)
            response.headers.update(ISOLATION_HEADERS)
            kind = MEDIA_TYPES.get(Path(path).suffix)
            if kind and response.status_code == 200:  # whatever this system's mimetypes table says
                response.headers["content-type"] = kind
            return response

    return [Mount(path, app=PageFiles(directory=Path(folder), html=True, check_dir=False), name="web_page")]
