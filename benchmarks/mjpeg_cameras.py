"""IP cameras for the multi-camera benchmark: MJPEG over HTTP (http://127.0.0.1:PORT/camN.mjpg) from a
thread of the benchmark's own process, at a frame rate on the wall clock, looping each camera's clip.
A viewer that reads too slowly misses frames (the camera skips ahead), as with a real IP camera: it
never waits for its viewer."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

BOUNDARY = b"frame"


def jpegs(clip: Path, quality: int = 85) -> list[bytes]:
    """Every frame of `clip` as a JPEG, as an MJPEG camera sends it."""
    cap, out = cv2.VideoCapture(str(clip)), []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
    cap.release()
    return out


class Cameras:
    """The cameras, served until `close()`; `sent` counts the frames each has sent over all its connections."""

    def __init__(self, clips: list[list[bytes]], fps: int):
        self.clips, self.fps = clips, fps
        self.sent: dict[int, int] = {}  # camera index -> frames sent
        self.stopped = threading.Event()
        handler = type("Handler", (_CameraHandler,), {"cameras": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="mjpeg-cameras", daemon=True)
        self.thread.start()

    def url(self, camera: int) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cam{camera + 1}.mjpg"

    def stream(self, camera: int, write) -> None:
        """Send camera `camera`'s frames to `write` at `fps` on the wall clock, until closed or disconnected."""
        frames, start, index = self.clips[camera], time.perf_counter(), 0
        try:
            while not self.stopped.is_set():
                jpeg = frames[index % len(frames)]
                head = b"--%b\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % (BOUNDARY, len(jpeg))
                write(head + jpeg + b"\r\n")
                self.sent[camera] = self.sent.get(camera, 0) + 1
                now = time.perf_counter()
                index = max(index + 1, int((now - start) * self.fps))  # late: skip ahead, as a camera does
                time.sleep(max(0.0, start + index / self.fps - now))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


class _CameraHandler(BaseHTTPRequestHandler):
    cameras: Cameras

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        try:
            camera = int(self.path.strip("/").removeprefix("cam").removesuffix(".mjpg")) - 1
        except ValueError:
            camera = -1
        if not 0 <= camera < len(self.cameras.clips):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
        self.end_headers()
        self.cameras.stream(camera, self.wfile.write)
