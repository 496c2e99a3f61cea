"""facemask.files' printing helpers: a path or source as it can be printed and stored."""

from __future__ import annotations

import os

from facemask.files import is_utf8, shown, source_label


def test_a_stream_url_loses_its_login_and_a_path_stays_as_it_is() -> None:
    assert source_label("rtsp://guard:secret@10.0.0.7:554/s1") == "rtsp://10.0.0.7:554/s1"
    assert source_label("https://token@cam.example/live") == "https://cam.example/live"
    assert source_label("http://cam/video.cgi?user=admin&pwd=x&ch=2") == "http://cam/video.cgi?ch=2"  # a query login


def test_a_stream_is_named_by_its_host_path_and_query_without_its_login() -> None:
    from facemask.files import stream_id

    assert stream_id("rtsp://guard:pw@10.0.0.11/stream1") == "10_0_0_11_stream1"
    channels = {stream_id(f"rtsp://nvr/cam/realmonitor?channel={n}&password=x") for n in (1, 2)}
    assert channels == {"nvr_cam_realmonitor_channel_1", "nvr_cam_realmonitor_channel_2"}  # one NVR, two cameras
    for path in ("videos/door@night.mp4", "C:\\videos\\a@b.mp4", "0", "rtsp://10.0.0.7/s1"):
        assert source_label(path) == path
    assert shown("rtsp://guard:secret@10.0.0.7/s1") == "rtsp://10.0.0.7/s1"


def test_bytes_that_are_not_utf8_are_shown_escaped_and_told_apart() -> None:
    odd = os.fsdecode(b"caf\xe9.jpg")
    assert shown(odd) == "caf\\xe9.jpg" and not is_utf8(odd)
    assert is_utf8("café.jpg") and is_utf8("rtsp://guard:secret@cam/1")  # a login is still UTF-8
