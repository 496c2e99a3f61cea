"""What a --source is, decided once (facemask.inference.sources), from real inputs: a photo, a folder, a glob,
a .txt list, a video written with OpenCV, camera addresses and a .streams file; what iter_frames then opens
for each; and the one-line SourceError of every input that cannot be read."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facemask.inference.sources import SourceError, SourceKind, classify, resolve_source
from facemask.inference.streams import iter_frames

VIDEO_FRAMES = 4


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """photos/a.jpg, photos/b.jpg and photos/clip.mp4 (VIDEO_FRAMES frames), written by OpenCV."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(folder / f"{name}.jpg"), np.full((48, 64, 3), 120, np.uint8))
    video = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(VIDEO_FRAMES):
        video.write(np.full((48, 64, 3), 40 * i, np.uint8))
    video.release()
    return folder


def test_each_kind_of_source_is_told_apart_with_its_items(media: Path, tmp_path: Path) -> None:
    photo, clip = media / "a.jpg", media / "clip.mp4"
    (tmp_path / "list.txt").write_text("photos/b.jpg\n\n" + str(photo) + "\n")
    (tmp_path / "cams.streams").write_text("0\nrtsp://cam.local/1\nphotos/clip.mp4  # the door\n")
    expected = {
        str(photo): (SourceKind.IMAGE, [str(photo)]),
        str(clip): (SourceKind.VIDEO, [str(clip)]),
        str(media): (SourceKind.FOLDER, [str(media / n) for n in ("a.jpg", "b.jpg", "clip.mp4")]),
        str(media / "*.jpg"): (SourceKind.GLOB, [str(photo), str(media / "b.jpg")]),
        str(tmp_path / "list.txt"): (SourceKind.LIST, [str(media / "b.jpg"), str(photo)]),
        str(tmp_path / "cams.streams"): (SourceKind.STREAMS_FILE, ["0", "rtsp://cam.local/1", str(clip)]),
        "0": (SourceKind.WEBCAM, ["0"]),
        "rtsp://cam.local:554/live": (SourceKind.STREAM, ["rtsp://cam.local:554/live"]),
        "http://192.168.1.5:8080/video.mjpg": (SourceKind.STREAM, ["http://192.168.1.5:8080/video.mjpg"]),
    }
    for source, (kind, items) in expected.items():
        assert classify(source) is kind, source
        assert resolve_source(source) == (kind, items), source
    assert classify(Path(photo)) is SourceKind.IMAGE and classify(0) is SourceKind.WEBCAM
    assert [k for k in SourceKind if k.live] == [SourceKind.WEBCAM, SourceKind.STREAM]


def test_a_file_named_like_a_pattern_is_a_file_and_a_missing_one_keeps_its_kind(tmp_path: Path) -> None:
    """'photo[1].jpg' is read as the file it is; a video still being copied is a video (read later)."""
    odd = tmp_path / "photo[1].jpg"
    cv2.imwrite(str(odd), np.zeros((8, 8, 3), np.uint8))
    assert resolve_source(odd) == (SourceKind.IMAGE, [str(odd)])
    assert classify(tmp_path / "later.MP4") is SourceKind.VIDEO


def test_each_kind_is_opened_as_it_needs(media: Path, tmp_path: Path) -> None:
    """Photos and videos of a folder or a list, each with its own reader; a list's missing file is skipped."""
    frames = list(iter_frames(media))
    assert [(f.name, f.is_video, f.image is not None) for f in frames] == [
        ("a", False, True),
        ("b", False, True),
        *[("clip", True, True)] * VIDEO_FRAMES,
    ]
    (tmp_path / "list.txt").write_text("photos/clip.mp4\nphotos/gone.jpg\n")
    listed = list(iter_frames(tmp_path / "list.txt", vid_stride=2))
    assert [f.index for f in listed[:-1]] == list(range(0, VIDEO_FRAMES, 2))
    assert (listed[-1].name, listed[-1].error) == ("gone", "missing file")


def made(folder: Path, name: str, data: bytes | None) -> Path:
    """folder/name: a folder when `name` ends with '/', else a file holding `data` (None: nothing there)."""
    path = folder / name
    if name.endswith("/"):
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nowhere.jpg", None, "no such file or directory: "),
        ("nowhere.streams", None, "no such file or directory: "),
        ("*.png", None, "no files match "),
        ("empty/", None, "no files in "),
        ("none.streams", b"# soon\n\n", "lists no sources"),
        ("bin.txt", b"\xff\xfe\x00", "is not a list of paths (not UTF-8 text)"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_line(tmp_path: Path, name: str, data: bytes | None, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        resolve_source(made(tmp_path, name, data))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_stream_address_opencv_would_crash_on_is_refused() -> None:
    with pytest.raises(SourceError, match=r"^the stream address rtsp://cam/\\xff is not valid UTF-8$"):
        resolve_source("rtsp://cam/\udcff")
