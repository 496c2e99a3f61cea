"""Load on the web app: concurrent gradio_client clients sending images; a benchmark, not a test.

Starts `python app.py` on a free localhost port (or uses --url), runs `--clients` clients that each
send `--requests` images to /detect_image, and prints requests per second, p50 and p95 latency,
errors, and the server's resident memory at the start, middle and end (flat = no growth).

Usage:
    python benchmarks/app_load.py                          # 20 clients x 5 requests, bundled examples
    python benchmarks/app_load.py --clients 20 --requests 10 --url http://127.0.0.1:7860/
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from gradio_client import Client, handle_file

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 120) -> None:
    start = time.time()
    while time.time() - start < timeout:
        try:
            Client(url, verbose=False)
            return
        except Exception:
            time.sleep(1)
    raise TimeoutError(f"app did not come up at {url}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=5, help="per client")
    p.add_argument("--url", help="an app already running (default: start one)")
    p.add_argument("--model", default="face_masks.pt")
    opt = p.parse_args()

    server = None
    url = opt.url
    if url is None:
        port = free_port()
        server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url)
        images = sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))
        memory: list[tuple[str, float]] = []
        proc = psutil.Process(server.pid) if server else None

        def rss(label: str) -> None:
            if proc is not None:
                memory.append((label, proc.memory_info().rss / 2**20))

        latencies: list[float] = []
        errors: list[str] = []
        done = threading.Lock()

        def client_loop(i: int) -> None:
            client = Client(url, verbose=False)
            for r in range(opt.requests):
                start = time.perf_counter()
                try:
                    client.predict(handle_file(images[(i + r) % len(images)]), opt.model, 0.25, 0.45, False,
                                   api_name="/detect_image")  # fmt: skip
                    with done:
                        latencies.append(time.perf_counter() - start)
                except Exception as e:
                    with done:
                        errors.append(f"{type(e).__name__}: {e}")
                if i == 0 and r == opt.requests // 2:
                    rss("middle")

        Client(url, verbose=False).predict(
            handle_file(images[0]), opt.model, 0.25, 0.45, False, api_name="/detect_image"
        )  # warm-up: the model loads on first use
        rss("start")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(opt.clients) as pool:
            list(pool.map(client_loop, range(opt.clients)))
        wall = time.perf_counter() - t0
        rss("end")

        total = opt.clients * opt.requests
        q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [float("nan")] * 19
        print(f"{opt.clients} clients x {opt.requests} requests = {total} images to {url}")
        print(f"requests/s {len(latencies) / wall:.2f}   p50 {statistics.median(latencies):.2f} s   "
              f"p95 {q[18]:.2f} s   errors {len(errors)}   wall {wall:.1f} s")  # fmt: skip
        if memory:
            print("server RSS MiB: " + ", ".join(f"{label} {mib:.0f}" for label, mib in memory))
        for e in errors[:5]:
            print("error:", e)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
