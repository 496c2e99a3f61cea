"""Milliseconds per image of the in-browser page in headless Chromium, next to the server's: a benchmark, not a test.

Builds the page from the model into a temporary folder and serves it twice: as plain static files (one
WebAssembly thread, as on most static hosts) and cross-origin isolated (COOP/COEP headers, as app.py serves
it at /web/, so ONNX Runtime Web gets several threads). On each image it times the page's own detection
(`window.facemask.detectImage`: pixels, letterbox, inference, NMS; the decode is left out) and, beside it,
detect.py's Detector with the same .onnx and with the .pt (one call: letterbox, inference, NMS; the same
image decoded beforehand). Medians over --runs after a warm-up run. It also checks that the page finds the
same faces as each server model (count per class, smallest matched IoU).

Usage:
    python benchmarks/web_page_speed.py                                   # shipped model, examples/*.jpg
    python benchmarks/web_page_speed.py --images 'datasets/face_masks_upright/images/test/*.jpg' --limit 20
    python benchmarks/web_page_speed.py --webgpu        # also WebGPU on SwiftShader (a CPU: slow, checks results)
"""

# ruff: noqa: E402  (the project root goes on sys.path before the project is imported)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<name>.py` from anywhere, as YOLOv5's scripts do

import argparse
import functools
import glob
import http.server
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from facemask.app import web_page
from facemask.inference.detector import Detector
from facemask.inference.media import read_image
from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]  # fmt: skip
SWIFTSHADER = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-webgpu-adapter=swiftshader",
               "--enable-unsafe-swiftshader"]  # fmt: skip


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


def iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


Faces = list[tuple[int, list[float]]]  # (class id, [x1, y1, x2, y2]) per face


def agreement(expected: Faces, found: Faces) -> tuple[bool, list[float]]:
    """(same count per class, the IoU of each expected box's match: greedy, one-to-one, within classes)."""
    same = sorted(c for c, _ in expected) == sorted(c for c, _ in found)
    pairs = sorted(((iou(e, f), i, j) for i, (ce, e) in enumerate(expected) for j, (cf, f) in enumerate(found)
                    if ce == cf), reverse=True)  # fmt: skip
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
        raise SystemExit(f"the page did not start: {ready['error']}")
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


def run(weights: Path, images: list[Path], runs: int, webgpu: bool) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site = web_page.build(weights, Path(tmp) / "site")
        (site / "images").mkdir()
        for path in images:
            shutil.copy(path, site / "images" / path.name)
        names = [p.name for p in images]
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
        servers = {"server .onnx": site / web_page.MODEL_DIR / "face_masks.onnx", "server .pt": weights}
        for label, model in servers.items():
            columns[label], found[label] = time_server(model, images, runs)

    print(f"\n{weights.name}, {len(images)} images, medians of {runs} runs after a warm-up; "
          f"{os.cpu_count()} CPU cores\n")  # fmt: skip
    header = f"{'image':32} {'faces':>5} " + " ".join(f"{c:>22}" for c in columns)
    print(header + "\n" + "-" * len(header))
    for name in names:
        faces = len(found["server .onnx"][name])
        print(f"{name[:32]:32} {faces:5} " + " ".join(f"{columns[c][name]:19.0f} ms" for c in columns))
    print(f"{'median':32} {'':5} " + " ".join(f"{statistics.median(columns[c].values()):19.0f} ms" for c in columns))
    print()
    for page_label in (c for c in columns if c.startswith("page")):
        for reference in servers:
            checks = [agreement(found[reference][n], found[page_label][n]) for n in names]
            ious = [v for _, image in checks for v in image]
            close = [v for v in ious if v >= 0.8]
            print(f"{page_label} vs {reference}: same faces per class on {sum(s for s, _ in checks)}/{len(names)} "
                  f"images; {len(close)}/{len(ious)} of its faces matched with IoU >= 0.8 (smallest "
                  f"{min(close, default=1):.4f}, median {statistics.median(close) if close else 0:.4f})")  # fmt: skip


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="a .pt (exported to ONNX for the page)")
    p.add_argument("--images", default=str(EXAMPLES_DIR / "*.jpg"), help="a glob of images")
    p.add_argument("--limit", type=int, default=0, help="at most this many images (0: all)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per image, after one warm-up")
    p.add_argument("--webgpu", action="store_true", help="also the WebGPU backend on SwiftShader (slow)")
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    images = [Path(p) for p in sorted(glob.glob(opt.images)) if Path(p).is_file()]
    images = images[: opt.limit] if opt.limit else images
    if not images:
        raise SystemExit(f"no images match {opt.images}")
    run(opt.weights, images, opt.runs, opt.webgpu)


if __name__ == "__main__":
    main(parse_opt())
