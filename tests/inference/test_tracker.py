"""The ultralytics tracker internals facemask/inference/tracker.py relies on, pinned so an ultralytics
upgrade that changes them fails here, loudly, rather than miscounting people: TRACKER_MAP and the
trackers' yamls, the attributes update() reads from its input (conf, cls, xywh, len, boolean indexing:
all _TrackerInput offers), the columns of its output ([x1, y1, x2, y2, track_id, score, cls, idx]), and
how long a lost track can come back (track_buffer frames and one more: PersonBook settles people by it)."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from facemask.inference.tracker import TRACKERS, FaceTracker, _TrackerInput

FRAME = np.zeros((240, 320, 3), np.uint8)


def dets(boxes: list[list[float]], conf: list[float], cls: list[int]) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, float).reshape(-1, 4), confidence=np.array(conf, float), class_id=np.array(cls, int)
    )


def test_tracker_map_has_a_tracker_for_each_yaml_we_offer() -> None:
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.trackers.track import TRACKER_MAP
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    types = {name: YAML.load(check_yaml(name))["tracker_type"] for name in TRACKERS}
    assert types == {"bytetrack.yaml": "bytetrack", "botsort.yaml": "botsort"}
    assert TRACKER_MAP["bytetrack"] is BYTETracker and TRACKER_MAP["botsort"] is BOTSORT
    for name in TRACKERS:
        assert "track_buffer" in YAML.load(check_yaml(name))  # FaceTracker rescales it to the frame rate


@pytest.mark.parametrize("config", TRACKERS)
def test_update_reads_our_input_and_returns_the_columns_we_read(config) -> None:
    tracker = FaceTracker(config, frame_rate=30).tracker
    xyxy = np.array([[10, 20, 40, 60], [100, 100, 150, 140], [200, 30, 230, 70]], np.float32)
    conf, cls = np.array([0.9, 0.8, 0.05], np.float32), np.array([1.0, 0.0, 1.0])  # the third is below any threshold
    for _ in range(3):
        out = tracker.update(_TrackerInput(xyxy, conf, cls), FRAME)  # only conf, cls, xywh, len, [mask]
    assert isinstance(out, np.ndarray) and out.shape == (2, 8)
    out = out[np.argsort(out[:, 7])]
    assert out[:, 7].tolist() == [0, 1]  # idx: the row of the input each track is
    assert np.allclose(out[:, :4], xyxy[:2], atol=1.0)  # x1, y1, x2, y2 in pixels
    assert len(set(out[:, 4].astype(int))) == 2 and (out[:, 4] >= 1).all()  # track ids
    assert np.allclose(out[:, 5], conf[:2]) and out[:, 6].tolist() == [1.0, 0.0]  # score, cls


@pytest.mark.parametrize("config", TRACKERS)
def test_face_tracker_sets_ids_and_minus_one_for_faces_not_yet_tracked(config) -> None:
    tracker = FaceTracker(config, frame_rate=30)
    a, b = [10, 20, 40, 60], [100, 100, 150, 140]
    first = tracker.update(dets([a], [0.9], [0]), FRAME)
    assert first.tracker_id.tolist() == [1]  # the first frame's faces are confirmed at once
    second = tracker.update(dets([a, b], [0.9, 0.9], [0, 1]), FRAME)
    assert second.tracker_id[0] == 1 and second.tracker_id[1] == -1  # a new face's first frame
    third = tracker.update(dets([b, a, [200, 30, 230, 70]], [0.9, 0.9, 0.05], [1, 0, 0]), FRAME)
    assert third.tracker_id[1] == 1 and third.tracker_id[0] not in (-1, 1) and third.tracker_id[2] == -1
    assert tracker.update(dets([], [], []), FRAME).tracker_id.tolist() == []


def returns_after(tracker: FaceTracker, gap: int) -> int:
    """A face seen 5 frames, gone `gap` frames, back in the same place: 1 if it is back under its
    track id, 0 under another id, -1 if it is a new face (unconfirmed in its first frame)."""
    face = dets([[100, 100, 140, 150]], [0.9], [0])
    (first,) = {int(tracker.update(face, FRAME).tracker_id[0]) for _ in range(5)}
    for _ in range(gap):
        tracker.update(dets([], [], []), FRAME)
    back = int(tracker.update(face, FRAME).tracker_id[0])
    return -1 if back == -1 else int(back == first)


@pytest.mark.parametrize("config", TRACKERS)
@pytest.mark.parametrize(("fps", "lost"), [(30, 30), (10, 10), (5, 5)])
def test_a_lost_track_comes_back_for_one_frame_more_than_its_buffer(config, fps, lost) -> None:
    """track_buffer (rescaled: FaceTracker.lost_frames) is how many frames a lost track is kept; the
    track is marked removed in the frame after, but still matched in that frame's update, so a face
    absent lost_frames + 1 frames still gets its old id, and one absent lost_frames + 2 a new one."""
    assert FaceTracker(config, frame_rate=fps).lost_frames == lost
    assert returns_after(FaceTracker(config, frame_rate=fps), lost) == 1
    assert returns_after(FaceTracker(config, frame_rate=fps), lost + 1) == 1
    assert returns_after(FaceTracker(config, frame_rate=fps), lost + 2) == -1


def test_a_face_back_under_its_old_id_is_still_one_person() -> None:
    from facemask.inference.media import Frame
    from facemask.inference.tracking import ComplianceCounter

    rows: list[dict] = []
    people = ComplianceCounter(None, "cam", {0: "Mask", 1: "No Mask"}, fps=10, on_person=rows.append)
    face, nobody = dets([[100, 100, 140, 150]], [0.9], [0]), dets([], [], [])
    frames = [face] * 6 + [nobody] * (people.tracker.lost_frames + 1) + [face] * 6
    for i, found in enumerate(frames):
        people.update(Frame("cam.mp4", "cam", FRAME, index=i, is_video=True), found)
    assert people.close()["people"] == 1, rows  # counts track 1 twice today
