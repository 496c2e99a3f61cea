"""The frames of any source (`iter_frames`: the one place that picks what opens a source, by its kind), and
many sources at once: `--source cams.streams`, YOLOv5's convention of a text file with one source per line
(video files, RTSP/HTTP streams, webcam indices; blank lines and # comments skipped).

Each source of a .streams file is read by a thread of its own, so a slow or stalled camera never holds up the
others; the detector takes their frames in turn. A live source keeps only its newest frame (a camera does not
wait for the detector: old frames are dropped, as in YOLOv5's LoadStreams); a video file waits for its
frames to be taken, so none is lost. A source that cannot be opened, or drops out, is reported (as a
Frame with an error, which detect.py prints and counts) and retried after `retry_s`: a live source for
as long as the run lasts, a file `file_retries` times. A file that has ended (or been given up) is followed
by a Frame with `ended` set, so that its people are settled and written then, not at the end of the run.
The run ends when every file has ended or been given up; on live sources it runs until stopped, and
every reader thread is stopped and joined then.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from facemask.files import stream_id
from facemask.inference.media import STREAM_TIMEOUT_S, Frame, SourceUnavailable, iter_video, read_image
from facemask.inference.sources import Source, SourceError, SourceKind, classify, resolve_source

GIVEN_UP = "(given up after"  # how the error of a source no longer retried ends: the sinks read it

RETRY_S = 5.0  # wait before opening a failed source again
FILE_RETRIES = 2  # a video file that fails is tried this many more times (it may be still being copied)
POLL_S = 0.5  # the longest the loop sleeps without news from a reader (it wakes at each new frame)


def iter_frames(
    source: str | int | Path | Source, vid_stride: int = 1, stream_timeout: float = STREAM_TIMEOUT_S
) -> Iterator[Frame]:
    """Every frame of a source (or of what resolve_source made of one), one at a time, each item opened as its
    kind needs; a stream silent for `stream_timeout` seconds is given up."""
    if vid_stride < 1:
        raise ValueError(f"--vid-stride must be 1 or more, not {vid_stride}")
    kind, items = source if isinstance(source, Source) else resolve_source(source)
    if kind is SourceKind.STREAMS_FILE:
        yield from MultiSource(items, vid_stride, stream_timeout=stream_timeout)
    elif kind in (SourceKind.WEBCAM, SourceKind.STREAM):  # named as in a .streams file, and as its MQTT topic
        target = int(items[0]) if kind is SourceKind.WEBCAM else items[0]
        yield from _one_live(target, source_name(items[0]), vid_stride, stream_timeout)
    else:
        for item in items:
            if classify(item) is SourceKind.VIDEO:
                yield from iter_video(item, Path(item).stem, vid_stride)
            else:
                yield read_image(item)


def source_name(item: str) -> str:
    """A short name for output files: the file's stem, cam<N> for a webcam, a stream's host and path."""
    kind = classify(item)
    if kind is SourceKind.WEBCAM:
        return f"cam{item}"
    if kind is SourceKind.STREAM:
        return stream_id(item)
    return Path(item).stem


def _one_live(target: str | int, name: str, vid_stride: int, timeout: float) -> Iterator[Frame]:
    """A stream's or webcam's frames; one that answered and then stopped is said to have ended (one line,
    counted in the summary, and the run's failure, as a lost camera of a .streams file is), not passed off
    as the end of a file."""
    last: Frame | None = None
    for last in iter_video(target, name, vid_stride, live=True, timeout=timeout):
        yield last
    if last is not None and last.error is None:  # it answered, and stopped without a word (a stall says so)
        ended = "the webcam stopped sending" if isinstance(target, int) else "the stream ended"
        yield Frame(str(target), name, is_video=True, live=True, error=ended)


def source_names(items: Sequence[str]) -> list[str]:
    """Each source's source_name, made unique as name, name_2, name_3, ...: two cameras whose files share a
    stem (a/clip.mp4, b/clip.mp4) keep a tile, a caption and a row of their own."""
    return unique_names([source_name(item) for item in items])


def unique_names(bases: Sequence[str]) -> list[str]:
    """The names in order, a repeated one as name_2, name_3, ..."""
    names: list[str] = []
    for base in bases:
        name = base
        n = 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


@dataclass
class _Reader:
    """One source's thread and its one-frame mailbox."""

    item: str
    name: str
    kind: SourceKind
    thread: threading.Thread | None = None
    done: bool = False


class MultiSource:
    """Frames of several sources, interleaved; iterate it once. Use as a context manager, or call `stop`,
    so that no reader thread outlives the run."""

    def __init__(
        self,
        items: list[str],
        vid_stride: int = 1,
        retry_s: float | None = None,
        file_retries: int | None = None,
        stream_timeout: float = STREAM_TIMEOUT_S,
    ):
        self.vid_stride = vid_stride
        self.stream_timeout = stream_timeout
        self.retry_s = RETRY_S if retry_s is None else retry_s  # read at call time: tests shorten the wait
        self.file_retries = FILE_RETRIES if file_retries is None else file_retries
        self.readers = [
            _Reader(item, name, classify(item)) for item, name in zip(items, source_names(items), strict=True)
        ]
        self._frames: queue.Queue[Frame] = queue.Queue()  # errors and frames of files (which wait their turn)
        self._latest: dict[str, Frame] = {}  # the newest frame of each live source
        self._lock = threading.Lock()
        self._file_slots = {r.item: threading.Semaphore(1) for r in self.readers}  # one file frame in flight each
        self._stop = threading.Event()
        self._new = threading.Event()  # a frame or an error is waiting

    def __enter__(self) -> MultiSource:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop and join every reader thread."""
        self._stop.set()
        for slot in self._file_slots.values():
            slot.release()  # a file reader waiting for its frame to be taken wakes up and sees the stop
        for r in self.readers:
            if r.thread is not None:
                r.thread.join(timeout=30)

    def __iter__(self) -> Iterator[Frame]:
        for r in self.readers:
            r.thread = threading.Thread(target=self._read, args=(r,), name=f"source-{r.name}", daemon=True)
            r.thread.start()
        try:
            while True:
                self._new.wait(POLL_S)  # a reader sets it with each frame: the detector never waits idle
                self._new.clear()
                queued = []
                while True:
                    try:
                        queued.append(self._frames.get_nowait())
                    except queue.Empty:
                        break
                with self._lock:
                    live = list(self._latest.values())
                    self._latest.clear()
                yield from live  # first: a camera's newest frame was read before an error queued since
                for frame in queued:
                    if frame.error is None and not frame.live and not frame.ended:
                        self._file_slots[frame.source].release()  # its reader may read the next one now
                    yield frame
                if not queued and not live and all(r.done for r in self.readers) and self._frames.empty():
                    return
        finally:
            self.stop()

    def _read(self, r: _Reader) -> None:
        live, attempts = r.kind.live, 0
        try:
            while not self._stop.is_set():
                error = self._read_once(r, live)
                if self._stop.is_set() or (error is None and not live):
                    return  # a file that played to its end
                attempts += 1
                if not live and attempts > self.file_retries:
                    self._frames.put(
                        Frame(r.item, r.name, is_video=True, live=live, error=f"{error} {GIVEN_UP} {attempts} tries)")
                    )
                    self._new.set()
                    return
                why = error or "the stream ended"
                self._frames.put(
                    Frame(r.item, r.name, is_video=True, live=live, error=f"{why} (retrying in {self.retry_s:g} s)")
                )
                self._new.set()
                self._stop.wait(self.retry_s)
        finally:
            if not live and not self._stop.is_set():
                self._frames.put(Frame(r.item, r.name, is_video=True, ended=True))  # after its last frame
            r.done = True
            self._new.set()

    def _read_once(self, r: _Reader, live: bool) -> str | None:
        """Read the source until it ends (None) or fails (why)."""
        target: str | int = int(r.item) if r.kind is SourceKind.WEBCAM else r.item
        try:
            for frame in iter_video(target, r.name, self.vid_stride, live=live, timeout=self.stream_timeout):
                if self._stop.is_set():
                    return None
                if frame.error:
                    return frame.error
                frame.source = r.item
                if live:
                    with self._lock:
                        self._latest[r.item] = frame  # a newer frame replaces one not taken yet
                    self._new.set()
                else:
                    self._file_slots[r.item].acquire()
                    if self._stop.is_set():
                        return None
                    self._frames.put(frame)
                    self._new.set()
        except SourceUnavailable as e:
            return e.reason  # the line that says it names the source
        except SourceError as e:
            return str(e)
        except Exception as e:  # a backend failing mid-stream must not end the other sources
            return f"read failed ({type(e).__name__}: {e})"
        return None
