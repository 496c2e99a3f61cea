"""detect.py --source cams.streams: several videos read at once as cameras, one of them broken and one
ending early; each tracked and counted on its own, in the summary JSON, one people CSV and one chart,
with the colour detector of test_tracking standing in for the model."""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import pytest

import detect
from facemask.inference import streams
from facemask.inference.sources import SourceError, SourceKind, read_streams_file, resolve_source
from facemask.inference.streams import MultiSource
from tests.inference.test_tracking import N, make_video, video  # noqa: F401  (video: the colour detector fixture)


def readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("source-") and t.is_alive()]


@pytest.fixture
def cameras(video: Path, tmp_path: Path) -> Path:  # noqa: F811
    """entrance (80 frames, 3 people), side: the same scene cut after 30 frames (A and B only, both seen
    long enough), broken: not a video."""
    side = tmp_path / "side.mp4"
    make_video(side, frames=30)
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 500)
    listing = tmp_path / "cams.streams"
    listing.write_text("# two doors and a broken camera\nentrance.mp4\nside.mp4\n\nbroken.mp4\n")
    return listing


def test_each_camera_is_counted_on_its_own_and_a_broken_one_stops_none(
    cameras, trained_run, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(streams, "RETRY_S", 0.1)
    detect.run(
        weights=trained_run / "weights" / "best.pt", source=cameras, project=tmp_path / "runs", track=True, interval=2.0
    )
    assert not readers()  # every reader thread has ended
    out = sorted((tmp_path / "runs").iterdir())[-1]
    summary = json.loads((out / "summary.json").read_text())
    entrance, side, broken = (str(tmp_path / n) for n in ("entrance.mp4", "side.mp4", "broken.mp4"))
    assert summary["frames"] == N + 30
    assert summary["sources"][entrance]["frames"] == N and summary["sources"][side]["frames"] == 30
    assert summary["sources"][broken]["problems"] == {"unreadable video": 1} == summary["skipped"]  # one file
    assert summary["sources"][broken]["retries"] == 2 and "given up" in summary["sources"][broken]["last_problem"]
    assert "failure" not in summary  # the others were read: the run did not fail
    people = summary["people"]
    assert (people["sources"][entrance]["people"], people["sources"][entrance]["masked"]) == (3, 2)
    assert (people["sources"][side]["people"], people["sources"][side]["masked"]) == (2, 1)
    never_up = people["sources"][broken]  # listed, with nothing counted and why
    assert (never_up["people"], never_up["frames"], never_up["intervals"]) == (0, 0, [])
    assert "given up" in never_up["error"]
    assert (people["total"]["people"], people["total"]["masked"], people["total"]["unmasked"]) == (5, 3, 2)
    assert people["total"]["compliance_rate"] == pytest.approx(0.6)
    assert sum(b["people"] for b in people["total"]["intervals"]) == 5
    with (out / "people.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["source"], r["verdict"]) for r in rows) == sorted(
        [(entrance, "Mask"), (entrance, "No Mask"), (entrance, "Mask"), (side, "Mask"), (side, "No Mask")]
    )
    assert (out / "compliance.png").stat().st_size > 0
    assert (out / "entrance.mp4").is_file() and (out / "side.mp4").is_file()  # each camera's own video


def test_a_streams_file_lists_sources_relative_to_itself(tmp_path: Path) -> None:
    listing = tmp_path / "cams.streams"
    listing.write_text("0\nrtsp://cam.local/1  \n# not me\ndoor.mp4  # the front door\n")
    assert read_streams_file(listing) == ["0", "rtsp://cam.local/1", str(tmp_path / "door.mp4")]
    assert resolve_source(listing).kind is SourceKind.STREAMS_FILE
    (tmp_path / "empty.streams").write_text("# nothing yet\n")
    with pytest.raises(SourceError, match="lists no sources"):
        resolve_source(tmp_path / "empty.streams")


def test_stopping_early_ends_every_reader(tmp_path: Path) -> None:
    clips = [make_video(tmp_path / f"c{i}.mp4") for i in range(3)]
    with MultiSource([str(c) for c in clips]) as source:
        frames = iter(source)
        first = next(frames).source
        time.sleep(1.0)  # every reader opens its file and holds a frame (on a busy machine that takes a while)
        seen = {first} | {next(frames).source for _ in range(30)}
        frames.close()
    assert not readers()
    assert seen == {str(c) for c in clips}  # taken in turn, not one camera first


def test_a_missing_file_is_reported_as_missing_and_then_as_ended(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(streams, "RETRY_S", 0.01)
    with MultiSource([str(tmp_path / "gone.mp4")]) as source:
        frames = list(source)
    assert [f.error for f in frames] == ["no such file (retrying in 0.01 s)"] * 2 + [
        "no such file (given up after 3 tries)",
        None,
    ]
    assert frames[-1].ended and frames[-1].image is None  # the pipeline settles its people then


def test_sources_that_share_a_stem_keep_names_of_their_own() -> None:
    items = ["a/clip.mp4", "b/clip.mp4", "clip_2.mp4", "0", "rtsp://cam/1", "c/clip.mp4"]
    assert streams.source_names(items) == ["clip", "clip_2", "clip_2_2", "cam0", "cam_1", "clip_3"]  # host and path


def test_a_camera_s_password_is_never_printed_or_kept(tmp_path: Path, monkeypatch, capsys) -> None:
    """A .streams line may carry a camera's login: it opens the camera, and is shown and stored without it."""
    import socket

    from facemask.inference.console import ConsoleSink

    monkeypatch.setattr(streams, "RETRY_S", 0.05)
    with socket.socket() as s:  # a loopback port nobody listens on: refused at once
        s.bind(("127.0.0.1", 0))
        url = f"rtsp://guard:secret@127.0.0.1:{s.getsockname()[1]}/stream1"
    with MultiSource([url], stream_timeout=1) as source:
        frame = next(iter(source))
    assert frame.source == url and frame.error.startswith("cannot open: refused, unreachable")  # named once, above
    console = ConsoleSink(sources=1)
    console.skip(frame)
    assert "secret" not in capsys.readouterr().err + frame.error and "secret" not in str(console.per_source)


def test_a_camera_down_is_said_once_until_it_comes_back(capsys) -> None:
    """streams retries a dead camera every few seconds; the console says so when it goes down, not at each try."""
    import numpy as np
    import supervision as sv

    from facemask.inference.console import ConsoleSink
    from facemask.inference.media import Frame
    from facemask.inference.pipeline import FrameResult

    url = "rtsp://10.0.0.7/door"
    down = Frame(url, "door", is_video=True, live=True, error="cannot open stream (retrying in 5 s)")
    up = Frame(url, "door", image=np.zeros((8, 8, 3), np.uint8), is_video=True, live=True)
    console = ConsoleSink(sources=1)
    for frame in (down, down, down):
        console.skip(frame)
    console.write(FrameResult(up, sv.Detections.empty(), {"Mask": 0, "No Mask": 0}))
    assert console.per_source[url]["down"] is False  # back, though its last problem was the outage
    console.skip(down)  # down again: said again
    console.close()
    err = capsys.readouterr().err
    assert err.count(f"WARNING: {url}: cannot open stream (retrying in 5 s)") == 2 and "skipped" not in err
    assert err.count(f"{url}: frames again") == 1 and console.per_source[url]["down"] is True
    assert console.summary.outages == {"cannot open stream": 2} and not console.summary.skipped  # not four tries
    record = console.per_source[url]
    assert (record["problems"], record["retries"]) == ({"cannot open stream": 2}, 2)  # as the summary counts
    assert console.summary.failure is None  # a .streams camera is retried for as long as the run lasts


def test_a_single_stream_that_stops_is_said_to_have_ended(tmp_path: Path) -> None:
    """detect.py --source http://cam/video.mjpg: a camera that stops sending ends the run with a line that
    says so, as a .streams camera is said to be lost, not as quietly as a file that played to its end."""
    from benchmarks.mjpeg_cameras import Cameras, jpegs

    cameras = Cameras([jpegs(make_video(tmp_path / "clip.mp4", frames=10))], fps=20)
    seen = []
    for frame in streams.iter_frames(cameras.url(0), stream_timeout=2):
        seen.append(frame)
        if len(seen) == 5:
            cameras.close()  # the camera goes away mid-stream
    assert all(f.error is None for f in seen[:5]) and seen[-1].error == "the stream ended"
    assert seen[-1].live and seen[-1].source == cameras.url(0)


def test_a_webcam_that_stops_sending_is_said_to_have_stopped(monkeypatch) -> None:
    import numpy as np

    from facemask.inference.media import Frame

    def three_frames(target, name, *args, **kwargs):
        for i in range(3):
            yield Frame(str(target), name, np.zeros((8, 8, 3), np.uint8), i, is_video=True, live=True)

    monkeypatch.setattr(streams, "iter_video", three_frames)
    seen = list(streams.iter_frames("0"))
    assert [f.error for f in seen] == [None, None, None, "the webcam stopped sending"]
    assert seen[-1].source == "0" and seen[-1].live


def test_a_stream_that_stalls_is_said_to_be_silent_not_ended(tmp_path: Path) -> None:
    """A camera that keeps the connection and stops sending (OpenCV ends a timed-out read as it ends a closed
    stream) is said to have sent nothing for --stream-timeout seconds."""
    from benchmarks.mjpeg_cameras import Cameras, jpegs

    cameras = Cameras([jpegs(make_video(tmp_path / "clip.mp4", frames=10))], fps=20)
    sent = cameras.stream

    def stalls(camera: int, write) -> None:  # five frames, then silence on an open connection
        sent(camera, lambda data: write(data) if cameras.sent.get(camera, 0) < 5 else cameras.stopped.wait(30))

    cameras.stream = stalls
    try:
        seen = list(streams.iter_frames(cameras.url(0), stream_timeout=2))
    finally:
        cameras.close()
    assert seen[-1].error == "no frame for 2 s" and seen[-1].live  # the last word: not "the stream ended"
    assert len(seen) > 1 and all(f.error is None for f in seen[:-1])


def test_a_single_stream_that_ends_fails_the_run_once_it_is_saved(trained_run, tmp_path: Path) -> None:
    """A camera service (systemd's Restart=on-failure, a container's restart policy) restarts detect.py on a
    failed exit: a stream that stops sending saves what it saw, then exits 1 with one line."""
    from benchmarks.mjpeg_cameras import Cameras, jpegs
    from tests.inference.test_detect import ROOT
    from tests.scripts import run_script
    from tests.waiting import wait_for

    cameras = Cameras([jpegs(make_video(tmp_path / "clip.mp4", frames=10))], fps=20)

    def lose_the_camera() -> None:  # once detect.py is reading, the camera goes away
        wait_for(lambda: cameras.sent.get(0, 0) >= 40, "frames sent to detect.py", timeout_s=120)
        cameras.close()

    threading.Thread(target=lose_the_camera, daemon=True).start()
    args = ["--weights", trained_run / "weights" / "best.pt", "--source", cameras.url(0), "--imgsz", "64"]
    result = run_script(ROOT / "detect.py", [*args, "--stream-timeout", "2", "--project", tmp_path / "runs"], tmp_path)
    assert result.code == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("detect.py: failed: http://127.0.0.1:")
    assert "the stream ended" in result.stderr.strip().splitlines()[-1]
    summary = json.loads((tmp_path / "runs" / "exp" / "summary.json").read_text())
    assert summary["frames"] > 0 and "the stream ended" in summary["failure"]
    assert summary["outages"] == {"the stream ended": 1} and summary["skipped"] == {}  # a camera lost, no file
    port = cameras.server.server_port
    assert (tmp_path / "runs" / "exp" / f"127_0_0_1_{port}_cam1_mjpg.mp4").is_file()  # named as its MQTT topic
