"""detect.py's sinks for a person at a terminal: a line per image, a progress bar per video or stream,
warnings for skipped files, the run's totals and whether it failed as a whole (detect.py's exit status);
and a window showing the results (--view-img)."""

from __future__ import annotations

import sys
from typing import Any

import cv2
from tqdm import tqdm

from facemask.errors import warn
from facemask.files import shown, source_label
from facemask.inference.counting import RunSummary, Tally, format_counts, plural
from facemask.inference.media import Frame
from facemask.inference.pipeline import BaseSink, FrameResult
from facemask.inference.streams import GIVEN_UP

MAX_WARNINGS = 20  # skipped files named one by one; a folder of 10,000 bad files would bury the results


class ConsoleSink(BaseSink):
    def __init__(self, vid_stride: int = 1, sources: int = 0):
        """`sources`: several sources are read at once (a .streams file): one bar for them all."""
        self.summary = RunSummary()
        self.vid_stride, self.sources = vid_stride, sources
        self.per_source: dict[str, dict[str, Any]] = {}  # with several sources: frames and problems of each
        self._bar: tqdm | None = None
        self._down: dict[str, Frame] = {}  # video sources whose failure was said, until a frame of theirs comes

    def write(self, result: FrameResult) -> None:
        frame, counts = result.frame, result.counts
        if frame.source in self._down:  # up again: said, and its next failure is said too
            del self._down[frame.source]
            tqdm.write(f"{shown(frame.source)}: frames again", file=sys.stderr)
        self.summary.add(counts, result.speed_ms, frame.is_video)
        if self.sources:
            record = self._source(frame.source)
            record["frames"] += 1
            record["down"] = False
        self._progress(frame if frame.is_video else None)
        if self._bar is not None:
            self._bar.set_postfix_str(format_counts(counts), refresh=False)
            self._bar.update(1)
        else:
            h, w = frame.image.shape[:2]
            ms = sum(result.speed_ms.values())
            print(f"{shown(frame.source)}: {w}x{h} {format_counts(counts)}, {ms:.0f} ms")

    def skip(self, frame: Frame) -> None:
        """A file that cannot be read, or a video source that failed: said and counted once per outage (a
        camera retried for days stays one line), in the summary and in the source's record alike."""
        reason = frame.error.split(" (")[0]
        again = frame.is_video and frame.source in self._down  # a retry, or the give-up, of a source said down
        if self.sources:
            record = self._source(frame.source)
            if again:
                record["retries"] += 1
            else:
                record["problems"][reason] = record["problems"].get(reason, 0) + 1
            record["last_problem"], record["down"] = frame.error, frame.is_video
        said = f"{shown(frame.source)}: {frame.error}"
        if frame.is_video:
            self._down[frame.source] = frame
        if again:
            if GIVEN_UP in frame.error:
                warn(said)
            return
        if frame.live:  # a camera's outage, said each time: it is no file of a folder to skip
            self.summary.outages[reason] += 1
            warn(said)
            return
        self.summary.skipped[reason] += 1
        skipped = sum(self.summary.skipped.values())
        if skipped <= MAX_WARNINGS:
            warn(said if frame.is_video else f"skipped {said}")
        elif skipped == MAX_WARNINGS + 1:
            warn("more files skipped; the summary counts them by reason")

    def source_done(self, source: str, people: dict[str, Any]) -> None:
        """A tracked video's people count, in a line (above the bar of several sources, which goes on)."""
        if not self.sources:
            self._progress(None)
        if not people.get("frames"):
            tqdm.write(f"{shown(source)}: no frames (down since it was first tried)", file=sys.stdout)
            return
        t = Tally.of_row(people)
        ignored = f"{plural(people['ignored_tracks'], 'short or out-of-zone track')} ignored"
        line = f"{shown(source)}: {t.people_text}, {t.masked} masked ({t.percent}), {t.unmasked} unmasked; {ignored}"
        tqdm.write(line, file=sys.stdout)

    def close(self) -> None:
        self.summary.failure = self._failure()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _failure(self) -> str | None:
        """Why the run failed as a whole, if it did: nothing could be read, or its one source, live (a camera,
        whose frames should never end), was lost. A service manager restarts a run on its exit status. The
        cameras of a .streams file are retried for as long as the run lasts: one down is in its record."""
        skipped, outages = sum(self.summary.skipped.values()), sum(self.summary.outages.values())
        if not (self.summary.images or self.summary.frames) and (skipped or outages):
            counts = ([f"{skipped} skipped"] if skipped else []) + ([plural(outages, "outage")] if outages else [])
            return f"nothing could be read ({', '.join(counts)})"
        lost = [f for f in self._down.values() if f.live and not self.sources]
        return f"{shown(lost[0].source)}: {lost[0].error}" if lost else None

    def _source(self, source: str) -> dict[str, Any]:
        # down: the source's last word was an error (the last problem may be an outage it came back from)
        empty = {"frames": 0, "problems": {}, "retries": 0, "last_problem": None, "down": False}
        return self.per_source.setdefault(source_label(source), empty)

    def _progress(self, frame: Frame | None) -> None:
        """One bar per video or stream (a frame rate where the length is unknown); none for images."""
        if self.sources:
            if self._bar is None and frame is not None:
                self._bar = tqdm(desc=f"{self.sources} sources", unit="frame", file=sys.stdout)
            return
        if self._bar is not None and (frame is None or self._bar.desc != shown(frame.source)):
            self._bar.close()
            self._bar = None
        if frame is not None and self._bar is None:
            total = -(-frame.total // self.vid_stride) if frame.total else None
            self._bar = tqdm(total=total, desc=shown(frame.source), unit="frame", file=sys.stdout)


class WindowSink(BaseSink):
    """Shows each annotated frame; on a machine without a display, says so once and stops trying."""

    def __init__(self):
        self.on = True

    def write(self, result: FrameResult) -> None:
        if not self.on or result.annotated is None:
            return
        try:
            cv2.imshow(shown(result.frame.source), result.annotated)  # OpenCV crashes on a title that is not UTF-8
            cv2.waitKey(1)
        except cv2.error:
            warn("--view-img needs a display and OpenCV with GUI support; not showing")
            self.on = False
