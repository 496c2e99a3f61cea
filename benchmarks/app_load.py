"""Load on the web app: concurrent gradio_client clients sending images; a benchmark, not a test.

Starts `python app.py` on a free localhost port (or uses --url), runs `--clients` clients that each
send `--requests` images to /detect_image, and prints requests per second, p50 and p95 latency,
errors, and the server's resident memory at the start, middle and end (flat = no growth).

Usage:
    python -m benchmarks.app_load                          # 20 clients x 5 requests, bundled examples
    python -m benchmarks.app_load --clients 20 --requests 10 --url http://127.0.0.1:7860/
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil
from gradio_client import Client, handle_file

from benchmarks import defaults
from facemask.cli import positive_int, run_or_fail
from facemask.inference.detector import PredictOptions
from facemask.paths import DEFAULT_WEIGHTS, EXAMPLES_DIR, PROJECT_ROOT

START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = START_TIMEOUT_S) -> None:
    start = time.time()
    while time.time() - start < timeout:
        try:
            Client(url, verbose=False)
            return
        except Exception:
            time.sleep(1)
    raise TimeoutError(f"app did not come up at {url}")


@contextmanager
def app_server(url: str | None) -> Iterator[tuple[str, psutil.Process | None]]:
    """`url` as it is, or a `python app.py` of its own on a free port (stopped at the end) and its process."""
    if url is not None:
        yield url, None
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/", psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Load:
    """What the clients saw, and the server's memory (MiB) as (when, RSS) when it is this benchmark's."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    memory: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rss(self, label: str, process: psutil.Process | None) -> None:
        if process is not None:
            self.memory.append((label, process.memory_info().rss / 2**20))


def send(url: str, images: list[str], model: str, clients: int, requests: int, process) -> tuple[Load, float]:
    """Every client sends `requests` images, all at once; returns what they saw and the wall time."""
    load, options = Load(), PredictOptions()
    args = (model, options.conf, options.iou, False)  # the app's defaults, faces not blurred

    def client_loop(i: int) -> None:
        client = Client(url, verbose=False)
        for r in range(requests):
            start = time.perf_counter()
            try:
                client.predict(handle_file(images[(i + r) % len(images)]), *args, api_name="/detect_image")
                with load.lock:
                    load.latencies.append(time.perf_counter() - start)
            except Exception as e:
                with load.lock:
                    load.errors.append(f"{type(e).__name__}: {e}")
            if i == 0 and r == requests // 2:
                load.rss("middle", process)

    Client(url, verbose=False).predict(handle_file(images[0]), *args, api_name="/detect_image")  # the model loads
    load.rss("start", process)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    wall = time.perf_counter() - t0
    load.rss("end", process)
    return load, wall


def run(
    clients: int = 20, requests: int = 5, url: str | None = None, model: str = DEFAULT_WEIGHTS.name
) -> dict[str, Any]:
    """Load the app at `url` (default: a `python app.py` of its own) and print the figures.

    clients: concurrent gradio_client clients; requests: images each sends (the bundled examples in turn)
    model: the app's model choice. Returns requests, requests_per_s, p50_s, p95_s, errors, wall_s, memory."""
    images = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))
    with app_server(url) as (url, process):
        wait_until_up(url)
        load, wall = send(url, images, model, clients, requests, process)
    lat = load.latencies
    q = statistics.quantiles(lat, n=20) if len(lat) > 1 else [float("nan")] * 19
    result = {
        "requests": clients * requests,
        "requests_per_s": len(lat) / wall,
        "wall_s": wall,
        "p50_s": statistics.median(lat) if lat else float("nan"),
        "p95_s": q[18],
        "errors": load.errors,
        "memory": load.memory,
    }
    print(f"{clients} clients x {requests} requests = {result['requests']} images to {url}")
    print(
        f"requests/s {result['requests_per_s']:.2f}   p50 {result['p50_s']:.2f} s   p95 {result['p95_s']:.2f} s   "
        f"errors {len(load.errors)}   wall {wall:.1f} s"
    )
    if load.memory:
        print("server RSS MiB: " + ", ".join(f"{label} {mib:.0f}" for label, mib in load.memory))
    for e in load.errors[:5]:
        print("error:", e)
    return result


def parse_opt(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=positive_int())
    p.add_argument("--requests", type=positive_int(), help="per client")
    p.add_argument("--url", help="an app already running (default: start one)")
    p.add_argument("--model", help="the app's model choice (a file of weights/)")
    p.set_defaults(**defaults(run))
    return p.parse_args(argv)


def main(opt: argparse.Namespace) -> None:
    run_or_fail("benchmarks.app_load", run, opt)


if __name__ == "__main__":
    main(parse_opt())
