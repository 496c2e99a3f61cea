"""detect.py --track on a synthetic video with known people, found by a colour detector standing in for
the model (tracking, verdicts, zones and files are what is under test, not the model); and the counting
itself fed tracked detections frame by frame, down to a long stream whose memory must stay flat."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

import detect
from facemask.inference import detector as detector_module
from facemask.inference.detector import Prediction
from facemask.inference.tracking import ComplianceCounter
from facemask.inference.zones import Zone

FPS, W, H, N = 10, 320, 240, 80
GREEN, RED = (0, 200, 0), (0, 0, 220)  # BGR


def people_at(i: int) -> list[tuple[tuple[int, int, int], tuple[int, int]]]:
    """(colour, top-left) of every face drawn in frame i; faces are 30x30.
    A: masked, crosses the top lane left to right, always visible.
    B: unmasked, crosses the bottom lane right to left; hidden in frames 31-38, then back on its path.
    C: a 2-frame flicker (frames 50-51): not a person.
    D: bottom-left, frames 40-55: 4 frames unmasked then 12 masked; the majority says Mask."""
    faces = [(GREEN, (10 + 3 * i, 40))]
    if not 31 <= i <= 38:
        faces.append((RED, (280 - 3 * i, 170)))
    if i in (50, 51):
        faces.append((GREEN, (150, 110)))
    if 40 <= i <= 55:
        faces.append((RED if i < 44 else GREEN, (20 + (i - 40), 120)))
    return faces


def make_video(path: Path, frames: int = N) -> Path:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    for i in range(frames):
        frame = np.zeros((H, W, 3), np.uint8)
        for colour, (x, y) in people_at(i):
            frame[y : y + 30, x : x + 30] = colour
        out.write(frame)
    out.release()
    return path


def colour_detector(self, image: np.ndarray, options=None) -> Prediction:
    """Boxes around green (class 0, Mask) and red (class 1, No Mask) blobs."""
    boxes, classes = [], []
    for cls, channel in ((0, 1), (1, 2)):
        others = [c for c in range(3) if c != channel]
        mask = ((image[:, :, channel] > 120) & (image[:, :, others].max(axis=2) < 80)).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        for x, y, w, h, area in stats[1:n]:
            if area > 200:
                boxes.append([x, y, x + w, y + h])
                classes.append(cls)
    if not boxes:
        return Prediction(sv.Detections.empty(), {"inference": 1.0})
    return Prediction(
        sv.Detections(xyxy=np.array(boxes, float), class_id=np.array(classes), confidence=np.full(len(boxes), 0.9)),
        {"inference": 1.0},
    )


@pytest.fixture
def video(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(detector_module.Detector, "__call__", colour_detector)
    return make_video(tmp_path / "entrance.mp4")


def track(video: Path, weights: Path, tmp_path: Path, **kw) -> Path:
    detect.run(weights=weights, source=video, project=tmp_path / "runs", track=True, interval=2.0, **kw)
    return sorted((tmp_path / "runs").iterdir())[-1]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_distinct_people_and_their_verdicts(video, trained_run, tmp_path) -> None:
    out = track(video, trained_run / "weights" / "best.pt", tmp_path)
    people = read_csv(out / "entrance_people.csv")
    verdicts = sorted((round(float(p["first_seen_s"])), p["verdict"]) for p in people)
    assert verdicts == [(0, "Mask"), (0, "No Mask"), (4, "Mask")]  # A, B (once, despite leaving), D; not C
    b = next(p for p in people if p["verdict"] == "No Mask")
    assert int(b["frames_seen"]) == N - 8 and float(b["last_seen_s"]) == pytest.approx(7.9)
    d = next(p for p in people if round(float(p["first_seen_s"])) == 4)
    assert float(d["confidence"]) == pytest.approx(12 / 16, abs=0.07)  # share of frames agreeing
    summary = json.loads((out / "entrance_tracking.json").read_text())
    assert (summary["people"], summary["masked"], summary["unmasked"]) == (3, 2, 1)
    assert summary["ignored_tracks"] >= 1  # the flicker
    intervals = read_csv(out / "entrance_compliance.csv")
    assert [(b["start_s"], b["people"], b["masked"], b["compliance_rate"]) for b in intervals] == [
        ("0.0", "2", "1", "0.5"),
        ("2.0", "0", "0", ""),
        ("4.0", "1", "1", "1.0"),
        ("6.0", "0", "0", ""),
    ]
    assert (out / "entrance_compliance.png").stat().st_size > 5000
    assert int(cv2.VideoCapture(str(out / "entrance.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == N


def test_zone_counts_only_people_who_enter_it(video, trained_run, tmp_path) -> None:
    out = track(video, trained_run / "weights" / "best.pt", tmp_path, zone="0,0,1,0,1,0.45,0,0.45")  # top lane
    people = read_csv(out / "entrance_people.csv")
    assert [p["verdict"] for p in people] == ["Mask"] and float(people[0]["first_seen_s"]) == 0


def test_line_counts_only_people_who_cross_it(video, trained_run, tmp_path) -> None:
    out = track(video, trained_run / "weights" / "best.pt", tmp_path, zone="160,0,160,240")  # mid-frame
    assert sorted(p["verdict"] for p in read_csv(out / "entrance_people.csv")) == ["Mask", "No Mask"]  # not D


def test_interrupted_stream_keeps_its_rows(video, trained_run, tmp_path, monkeypatch) -> None:
    real = detect.iter_frames

    def stopped_at_frame_60(*args, **kwargs):
        for frame in real(*args, **kwargs):
            if frame.index == 60:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(detect, "iter_frames", stopped_at_frame_60)
    with pytest.raises(KeyboardInterrupt):  # raised again once saved: a stopped run is not a finished one
        track(video, trained_run / "weights" / "best.pt", tmp_path)
    out = sorted((tmp_path / "runs").iterdir())[-1]
    people = read_csv(out / "entrance_people.csv")
    assert len(people) == 3 and max(float(p["last_seen_s"]) for p in people) == pytest.approx(5.9)
    assert len(read_csv(out / "entrance_compliance.csv")) == 3  # intervals 0-2, 2-4, 4-6 s
    assert json.loads((out / "entrance_tracking.json").read_text())["frames"] == 60


def test_vid_stride_neither_splits_nor_speeds_up_people(video, trained_run, tmp_path) -> None:
    out = track(video, trained_run / "weights" / "best.pt", tmp_path, vid_stride=2)
    people = read_csv(out / "entrance_people.csv")
    assert sorted(p["verdict"] for p in people) == ["Mask", "Mask", "No Mask"]
    b = next(p for p in people if p["verdict"] == "No Mask")
    assert int(b["frames_seen"]) == (N - 8) // 2 and float(b["last_seen_s"]) == pytest.approx(7.8)
    saved = cv2.VideoCapture(str(out / "entrance.mp4"))
    assert saved.get(cv2.CAP_PROP_FRAME_COUNT) == N // 2 and saved.get(cv2.CAP_PROP_FPS) == pytest.approx(FPS / 2)


def test_tracked_outputs_keep_every_detection(video, trained_run, tmp_path) -> None:
    out = track(video, trained_run / "weights" / "best.pt", tmp_path, save_json=True, save_txt=True)
    records = json.loads((out / "predictions.json").read_text())
    assert all(sum(r["counts"].values()) == len(r["detections"]) for r in records)
    first = records[0]["detections"]  # frame 0: faces seen for the first time already have ids
    assert len(first) == 2 and all("track_id" in d for d in first)
    c_frame = next(r for r in records if r["frame"] == 50)  # the flicker's first frame: no track yet
    assert len(c_frame["detections"]) == 4 and sum("track_id" not in d for d in c_frame["detections"]) == 1
    assert len((out / "labels" / "entrance_50.txt").read_text().splitlines()) == 4


@pytest.mark.parametrize("flag", [["--interval", "0"], ["--vid-stride", "0"], ["--min-track-frames", "-1"]])
def test_non_positive_values_are_refused(flag, capsys) -> None:
    with pytest.raises(SystemExit):
        detect.parse_opt(["--track", *flag])
    err = capsys.readouterr().err
    assert f"argument {flag[0]}: must be" in err and ("above 0" in err or "at least 1" in err)


# The counting on its own: detections with tracker ids already set, as FaceTracker returns them.
NAMES = {0: "Mask", 1: "No Mask"}
MASKED, UNMASKED = 0, 1


def tracked(faces: list[tuple[int, int]], xs: list[float] | None = None) -> sv.Detections:
    """One frame of (track id, class id) faces, 30x30 at y 100, at `xs` (default: side by side)."""
    xs = xs if xs is not None else [40.0 * i for i in range(len(faces))]
    return sv.Detections(
        xyxy=np.array([[x, 100, x + 30, 130] for x in xs], float).reshape(-1, 4),
        class_id=np.array([c for _, c in faces], int),
        confidence=np.full(len(faces), 0.8),
        tracker_id=np.array([t for t, _ in faces], int),
    )


def counter(tmp_path: Path, **kw) -> ComplianceCounter:
    """A counter at 10 fps (the tracker then keeps lost tracks 10 frames), writing to tmp_path."""
    return ComplianceCounter(tmp_path, "cam", NAMES, fps=FPS, **kw)


def feed(people: ComplianceCounter, frames: list[list[tuple[int, int]]], start: int = 0) -> None:
    for i, faces in enumerate(frames, start):
        people.count(tracked(faces), i / FPS, W, H)


def test_short_tracks_are_ignored_and_ties_are_not_called_masked(tmp_path) -> None:
    people = counter(tmp_path)
    votes = {1: [MASKED] * 3 + [UNMASKED] * 2, 2: [MASKED] * 4, 3: [MASKED, UNMASKED] * 3}  # 2: 4 frames, too few
    feed(people, [[(t, v[i]) for t, v in votes.items() if i < len(v)] for i in range(6)])
    feed(people, [[]] * (people.book.lost_frames + 1), start=6)  # all lost for longer than the tracker keeps them
    rows = read_csv(tmp_path / "cam_people.csv")  # written as they settle, before close
    assert [(r["track_id"], r["verdict"], r["frames_seen"], r["confidence"]) for r in rows] == [
        ("1", "Mask", "5", "0.6"),
        ("3", "No Mask", "6", "0.5"),
    ]
    assert len(people.book) == 0 and people.ignored == 1
    summary = people.close()
    assert (summary["people"], summary["masked"], summary["unmasked"], summary["ignored_tracks"]) == (2, 1, 1, 1)
    saved = json.loads((tmp_path / "cam_tracking.json").read_text())
    assert "people_list" not in saved and saved["files"]["people.csv"] == str(tmp_path / "cam_people.csv")
    assert saved["intervals"] == [
        {"start_s": 0.0, "end_s": 1.8, "frames": 18, "people": 2, "masked": 1, "unmasked": 1, "compliance_rate": 0.5}
    ]  # the minute the clip is in, up to where it ends: its last frame, at 1.7 s, and that frame's 0.1 s


def test_a_person_is_held_until_lost_longer_than_the_tracker_keeps_them(tmp_path) -> None:
    people = counter(tmp_path)
    lost = people.book.lost_frames
    feed(people, [[(7, MASKED)]] * 5)  # frames 0-4
    feed(people, [[]] * lost, start=5)  # gone for as long as the tracker keeps the track: may come back
    assert len(people.book) == 1
    feed(people, [[(7, MASKED)]] * 5, start=5 + lost)  # and does: still one person
    feed(people, [[]] * lost, start=10 + lost)
    assert len(people.book) == 1 and read_csv(tmp_path / "cam_people.csv") == []
    feed(people, [[]], start=10 + 2 * lost)  # one frame more: the tracker has dropped it, so it is settled
    assert len(people.book) == 0
    [row] = read_csv(tmp_path / "cam_people.csv")
    assert row["frames_seen"] == "10" and float(row["last_seen_s"]) == pytest.approx((9 + lost) / FPS)


def test_an_interval_is_written_once_everyone_first_seen_in_it_is_settled(tmp_path) -> None:
    people = counter(tmp_path, interval_s=1.0)  # 10 frames an interval
    # A stays frames 0-29, B (unmasked) 12-16, C is a flicker in interval 2; nobody starts in interval 3.
    feed(
        people,
        [
            [(1, MASKED)] + ([(2, UNMASKED)] if 12 <= i <= 16 else []) + ([(3, MASKED)] if i == 25 else [])
            for i in range(30)
        ],
    )
    feed(people, [[]] * people.book.lost_frames, start=30)  # frames 30-40: A is not settled yet
    assert read_csv(tmp_path / "cam_compliance.csv") == []  # interval 0 waits for A, and every later one with it
    feed(people, [[]], start=30 + people.book.lost_frames)  # A settles at 4.1 s: intervals 0-3 are complete
    rows = read_csv(tmp_path / "cam_compliance.csv")
    assert [(r["start_s"], r["people"], r["masked"], r["compliance_rate"]) for r in rows] == [
        ("0.0", "1", "1", "1.0"),
        ("1.0", "1", "0", "0.0"),
        ("2.0", "0", "0", ""),
        ("3.0", "0", "0", ""),
    ]
    assert len(people.intervals) == 0
    people.close()
    last = read_csv(tmp_path / "cam_compliance.csv")[4:]
    assert [(r["start_s"], r["end_s"], r["frames"]) for r in last] == [("4.0", "4.2", "2")]  # the frames at 4.0, 4.1 s
    assert (tmp_path / "cam_compliance.png").stat().st_size > 5000


def test_a_live_camera_that_goes_down_has_its_empty_intervals_at_once(tmp_path) -> None:
    """The pipeline tells the counter of each failed read (every retry): those in view are settled, and the
    intervals up to now are written with 0 frames, to the CSV and to `on_interval` (the events), while the
    camera is still down; a stop while down ends the last interval at the stop."""
    people = counter(tmp_path, interval_s=1.0)
    heard = []
    people.on_interval = heard.append
    people.live, people.started = True, time.monotonic() - 3.5  # a camera opened 3.5 s ago
    feed(people, [[(1, MASKED)]] * 10)  # 0.0-0.9 s, then the camera is lost
    people.source_down()
    rows = read_csv(tmp_path / "cam_compliance.csv")
    assert [(r["start_s"], r["frames"], r["people"]) for r in rows] == [
        ("0.0", "10", "1"),
        ("1.0", "0", "0"),
        ("2.0", "0", "0"),
    ]
    assert len(read_csv(tmp_path / "cam_people.csv")) == 1 and len(people.book) == 0
    summary = people.close()
    [last] = read_csv(tmp_path / "cam_compliance.csv")[3:]
    assert (last["start_s"], last["frames"]) == ("3.0", "0") and 3.5 <= float(last["end_s"]) < 4.0
    assert summary["duration_s"] == pytest.approx(float(last["end_s"]), abs=0.01) and summary["people"] == 1
    assert [r["frames"] for r in heard] == [10, 0, 0, 0]  # what the event sink is given


def test_a_line_counts_only_tracks_that_cross_it(tmp_path) -> None:
    people = counter(tmp_path, zone=Zone.parse("160,0,160,240"))
    for i in range(10):  # 1 walks across the line; 2 walks as far, on its left
        people.count(tracked([(1, MASKED), (2, UNMASKED)], xs=[100 + 10 * i, 10 + 10 * i]), i / FPS, W, H)
    people.close()
    assert [r["track_id"] for r in read_csv(tmp_path / "cam_people.csv")] == ["1"] and people.ignored == 1


def test_a_long_stream_holds_few_people_and_writes_every_one(tmp_path) -> None:
    """An hour at 10 fps: someone arrives every 0.7 s and stays 2-6 s (every 10th is a flicker). The
    people held stay those in view or just lost, the intervals held stay the open ones, and every
    person reaches the CSV (and the app's callback) and their interval."""
    frames, arrive_every = 36_000, 7
    stays = {k: 2 if k % 10 == 9 else 20 + 13 * k % 40 for k in range(frames // arrive_every)}
    stayed = [k for k, stay in stays.items() if min(stay, frames - k * arrive_every) >= 5]  # the last: cut off
    expected = {k: "No Mask" if k % 3 == 0 else "Mask" for k in stayed}
    rows: list[dict] = []
    people = counter(tmp_path, on_person=rows.append)
    most_people, most_intervals = 0, 0
    for i in range(frames):
        first = max(0, (i - 60) // arrive_every)  # nobody stays longer than 60 frames
        here = [
            (k, UNMASKED if k % 3 == 0 else MASKED)
            for k in range(first, i // arrive_every + 1)
            if k * arrive_every <= i < k * arrive_every + stays.get(k, 0)
        ]
        people.count(tracked(here), i / FPS, W, H)
        most_people, most_intervals = max(most_people, len(people.book)), max(most_intervals, len(people.intervals))
    assert most_people <= 15 and most_intervals <= 2  # against ~4,600 people seen
    summary = people.close()
    written = read_csv(tmp_path / "cam_people.csv")
    assert {int(r["track_id"]): r["verdict"] for r in written} == expected and len(written) == len(expected)
    assert [str(r["track_id"]) for r in rows] == [r["track_id"] for r in written]
    intervals = read_csv(tmp_path / "cam_compliance.csv")
    assert len(intervals) == 60 and sum(int(r["people"]) for r in intervals) == summary["people"] == len(expected)
    assert summary["masked"] == sum(v == "Mask" for v in expected.values())


def test_a_counter_made_at_a_camera_s_first_failure_takes_the_rate_of_its_first_frame(tmp_path) -> None:
    """The pipeline makes a camera's counter at its first failed read (a camera still booting), from an error
    frame with no rate: its first frame sets the tracker's patience, which is in frames, not seconds."""
    from facemask.inference.media import Frame

    people = ComplianceCounter(tmp_path, "cam", NAMES, fps=None)  # as from an error frame
    people.source_down(live=True)
    first = Frame("rtsp://cam/1", "cam", np.zeros((H, W, 3), np.uint8), is_video=True, fps=FPS, stride=2, live=True)
    people.update(first, sv.Detections.empty())
    made_right = ComplianceCounter(None, "cam", NAMES, fps=FPS, stride=2)
    assert (people.fps, people.stride, people.step_s) == (FPS, 2, 2 / FPS)
    assert people.tracker.lost_frames == made_right.tracker.lost_frames and people.frames == 1
