"""Milliseconds per image of the in-browser page in headless Chromium, next to the server's: a benchmark, not a test.

Builds the page from the model into a temporary folder and serves it twice: as plain static files (one
WebAssembly thread, as on most static hosts) and cross-origin isolated (COOP/COEP headers, as app.py serves
it at /web/, so ONNX Runtime Web gets several threads). On each image it times the page's own detection
(`window.facemask.detectImage`: pixels, letterbox, inference, NMS; the decode is left out) and, beside it,
detect.py's Detector with the same .onnx and with the .pt (one call: letterbox, inference, NMS; the same
image decoded beforehand). Medians over --runs after a warm-up run. It also checks that the page finds the
same faces as each server model (count per class, smallest matched IoU).

Usage:
    python -m benchmarks.web_page_speed                                   # shipped model, examples/*.jpg
    python -m benchmarks.web_page_speed --images 'datasets/face_masks_upright/images/test/*.jpg' --limit 20
    python -m benchmarks.web_page_speed --webgpu        # also WebGPU on SwiftShader (a CPU: slow, checks results)
"""

from __future__ import annotations

import argparse
import functools
import glob
import http.server
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import supervision as sv

from benchmarks import defaults
from facemask.app import web_page
from facemask.cli import int_range, positive_int, run_or_fail
from facemask.errors import FacemaskError
from facemask.inference.detector import Detector
from facemask.inference.media import read_image
from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SWIFTSHADER = [
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-webgpu-adapter=swiftshader",
    "--enable-unsafe-swiftshader",
]


class Files(http.server.SimpleHTTPRequestHandler):
    isolated: ClassVar[bool] = False
    extensions_map: ClassVar[dict[str, str]] = {".mjs": "text/javascript", ".wasm": "application/wasm"}

    def end_headers(self) -> None:
        if self.isolated:
            for k, v in web_page.ISOLATION_HEADERS.items():
                self.send_header(k, v)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(folder: Path, isolated: bool) -> Iterator[str]:
    handler = type("Handler", (Files,), {"isolated": isolated})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


Faces = list[tuple[int, list[float]]]  # (class id, [x1, y1, x2, y2]) per face


def agreement(expected: Faces, found: Faces) -> tuple[bool, list[float]]:
    """(same count per class, the IoU of each expected box's match: greedy, one-to-one, within classes)."""
    same = sorted(c for c, _ in expected) == sorted(c for c, _ in found)
    if not expected or not found:
        return same, [0.0] * len(expected)
    with np.errstate(invalid="ignore", divide="ignore"):  # a degenerate pair of boxes has no union: IoU 0
        ious = np.nan_to_num(sv.box_iou_batch(np.array([e for _, e in expected]), np.array([f for _, f in found])))
    pairs = sorted(
        (
            (float(ious[i, j]), i, j)
            for i, (ce, _) in enumerate(expected)
            for j, (cf, _) in enumerate(found)
            if ce == cf
        ),
        reverse=True,
    )
    best: dict[int, float] = {}
    used: set[int] = set()
    for value, i, j in pairs:
        if i not in best and j not in used:
            best[i] = value
            used.add(j)
    return same, [best.get(i, 0.0) for i in range(len(expected))]


def time_page(browser, url: str, names: list[str], runs: int, query: str = "") -> tuple[dict, dict, dict]:
    """{image: median ms}, {image: detections as (cls, box)}, the page's ready info."""
    page = browser.new_page()
    page.goto(url + query)
    ready = page.evaluate("window.facemask.ready")
    if not ready["ok"]:
        raise FacemaskError(f"the page did not start: {ready['error']}")
    ms, found = {}, {}
    for name in names:
        results = [page.evaluate(f"window.facemask.detectImage('images/{name}')") for _ in range(runs + 1)]
        ms[name] = statistics.median(r["ms"]["total"] for r in results[1:])
        found[name] = [(d["cls"], d["box"]) for d in results[-1]["detections"]]
    page.close()
    return ms, found, ready


def time_server(weights: Path, images: list[Path], runs: int) -> tuple[dict, dict]:
    detector = Detector(weights)
    ms, found = {}, {}
    for path in images:
        bgr = read_image(str(path)).image
        times = []
        for _ in range(runs + 1):
            start = time.perf_counter()
            detections = detector(bgr).detections
            times.append((time.perf_counter() - start) * 1000)
        ms[path.name] = statistics.median(times[1:])
        found[path.name] = [(int(c), b.tolist()) for c, b in zip(detections.class_id, detections.xyxy, strict=True)]
    return ms, found


def time_pages(site: Path, names: list[str], runs: int, webgpu: bool) -> tuple[dict, dict]:
    """{column: {image: median ms}} and {column: {image: faces}} of the page: served plain (one WASM thread)
    and cross-origin isolated (several), and with `webgpu` on SwiftShader."""
    from playwright.sync_api import sync_playwright

    columns, found = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--disable-gpu"])
        for isolated in (False, True):
            with serve(site, isolated) as url:
                ms, got, ready = time_page(browser, url, names, runs, "?backend=wasm")
            threads = ready["threads"]
            label = f"page WASM {threads} thread{'s' if threads > 1 else ''}"
            columns[label], found[label] = ms, got
        browser.close()
        if webgpu:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *SWIFTSHADER])
            with serve(site, False) as url:
                ms, got, ready = time_page(browser, url, names, 1, "?backend=webgpu")
            label = f"page {ready['backend']} (SwiftShader)"
            columns[label], found[label] = ms, got
            browser.close()
    return columns, found


def run(
    weights: Path = DEFAULT_WEIGHTS,
    images: str = str(EXAMPLES_DIR / "*.jpg"),
    limit: int = 0,
    runs: int = 5,
    webgpu: bool = False,
) -> dict[str, Any]:
    """Time the page built from `weights` and the server's models on the `images` (a glob; at most `limit`
    of them unless 0), `runs` times each after a warm-up, and print the tables. Returns ms ({column: {image:
    median ms}}) and agreement ({(page column, server column): (images with the same faces per class,
    IoUs of the faces)})."""
    paths = [Path(p) for p in sorted(glob.glob(images)) if Path(p).is_file()]
    paths = paths[:limit] if limit else paths
    if not paths:
        raise FacemaskError(f"no images match {images}")
    with tempfile.TemporaryDirectory() as tmp:
        site = web_page.build(weights, Path(tmp) / "site")
        (site / "images").mkdir()
        for path in paths:
            shutil.copy(path, site / "images" / path.name)
        names = [p.name for p in paths]
        columns, found = time_pages(site, names, runs, webgpu)
        onnx = (
            site / web_page.MODEL_DIR / json.loads((site / web_page.MODEL_DIR / web_page.CONFIG).read_text())["model"]
        )
        servers = {"server .onnx": onnx, "server .pt": weights}  # the very file the page runs, and its .pt
        for label, model in servers.items():
            columns[label], found[label] = time_server(model, paths, runs)
    print(
        f"\n{weights.name}, {len(paths)} images, medians of {runs} runs after a warm-up; {os.cpu_count()} CPU cores\n"
    )
    print_times(columns, names, found["server .onnx"])
    checks = {
        (page, server): [agreement(found[server][n], found[page][n]) for n in names]
        for page in columns
        if page.startswith("page")
        for server in servers
    }
    print()
    for (page, server), image_checks in checks.items():
        ious = [v for _, image in image_checks for v in image]
        close = [v for v in ious if v >= 0.8]
        print(
            f"{page} vs {server}: same faces per class on {sum(s for s, _ in image_checks)}/{len(names)} "
            f"images; {len(close)}/{len(ious)} of its faces matched with IoU >= 0.8 (smallest "
            f"{min(close, default=1):.4f}, median {statistics.median(close) if close else 0:.4f})"
        )
    agreements = {k: (sum(s for s, _ in v), [x for _, image in v for x in image]) for k, v in checks.items()}
    return {"ms": columns, "agreement": agreements}


def print_times(columns: dict[str, dict[str, float]], names: list[str], faces: dict[str, list]) -> None:
    header = f"{'image':32} {'faces':>5} " + " ".join(f"{c:>22}" for c in columns)
    print(header + "\n" + "-" * len(header))
    for name in names:
        print(f"{name[:32]:32} {len(faces[name]):5} " + " ".join(f"{columns[c][name]:19.0f} ms" for c in columns))
    print(f"{'median':32} {'':5} " + " ".join(f"{statistics.median(columns[c].values()):19.0f} ms" for c in columns))


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, help="a .pt (exported to ONNX for the page)")
    p.add_argument("--images", help="a glob of images")
    p.add_argument("--limit", type=int_range(0), help="at most this many images (0: all)")
    p.add_argument("--runs", type=positive_int(), help="timed runs per image, after one warm-up")
    p.add_argument("--webgpu", action="store_true", help="also the WebGPU backend on SwiftShader (slow)")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.web_page_speed", run, opt)


if __name__ == "__main__":
    main(parse_opt())
