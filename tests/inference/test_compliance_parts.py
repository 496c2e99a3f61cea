"""The parts of compliance over time, each on its own with hand-made detections (no model, no tracker):
ZoneGate, Person, PersonBook, Totals, IntervalTally, RowWriter and the interval CSV read back."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from facemask.inference.tracking import (
    BUCKET_COLUMNS,
    PEOPLE_COLUMNS,
    IntervalTally,
    Person,
    PersonBook,
    RowWriter,
    Totals,
    Zone,
    ZoneGate,
    read_intervals,
)

W, H = 320, 240


def faces(*boxes: tuple[int, float, float]) -> sv.Detections:
    """One frame of (tracker id, centre x, centre y) faces, 20x20 px; id -1: not in a confirmed track."""
    xyxy = np.array([[x - 10, y - 10, x + 10, y + 10] for _, x, y in boxes], float).reshape(-1, 4)
    return sv.Detections(xyxy=xyxy, class_id=np.zeros(len(boxes), int), confidence=np.full(len(boxes), 0.9),
                         tracker_id=np.array([t for t, _, _ in boxes], int))  # fmt: skip


# --- ZoneGate ---


def test_without_a_zone_every_face_is_a_hit() -> None:
    gate = ZoneGate(None)
    assert gate.hits(faces((1, 50, 50), (-1, 200, 200)), W, H).tolist() == [True, True]
    assert gate.hits(faces(), W, H).tolist() == []


def test_a_polygon_hits_the_confirmed_faces_inside_it() -> None:
    gate = ZoneGate(Zone.parse("0,0,1,0,1,0.5,0,0.5"))  # the top half, in fractions of the frame
    assert gate.hits(faces((-1, 50, 50)), W, H).tolist() == [False]  # unconfirmed: never shown to the zone
    assert gate._counter is None  # nor is the zone made before a confirmed face is seen
    hits = gate.hits(faces((1, 50, 50), (2, 50, 200), (-1, 100, 60)), W, H)
    assert hits.tolist() == [True, False, False]
    assert isinstance(gate._counter, sv.PolygonZone)
    assert gate.hits(faces((2, 50, 60)), W, H).tolist() == [True]  # 2 walks in


def test_a_polygon_in_pixels_is_made_at_the_first_frames_size() -> None:
    gate = ZoneGate(Zone.parse("0,0,160,0,160,120,0,120"))  # pixels: the top-left quarter of 320x240
    assert gate.hits(faces((1, 100, 100), (2, 200, 100)), W, H).tolist() == [True, False]
    fractions = ZoneGate(Zone.parse("0,0,0.5,0,0.5,0.5,0,0.5"))
    assert fractions.hits(faces((1, 100, 100)), W, H).tolist() == [True]
    assert fractions.hits(faces((1, 100, 100)), 2 * W, 2 * H).tolist() == [True]  # still 160x120 px: kept


def test_a_line_hits_a_track_in_the_frame_it_crosses() -> None:
    gate = ZoneGate(Zone.parse("160,0,160,240"))
    assert gate.hits(faces((1, 100, 100), (2, 20, 100)), W, H).tolist() == [False, False]
    assert isinstance(gate._counter, sv.LineZone)
    # 1 crosses left to right; 2 moves as far but stays left; an unconfirmed face jumps across
    assert gate.hits(faces((1, 220, 100), (2, 120, 100), (-1, 220, 150)), W, H).tolist() == [True, False, False]
    assert gate.hits(faces((1, 240, 100)), W, H).tolist() == [False]  # on the far side, no new crossing
    assert gate.hits(faces((1, 100, 100)), W, H).tolist() == [True]  # back across, right to left


def test_untracked_faces_never_cross_a_line() -> None:
    """-1 is not a track: two different untracked faces either side of the line are not one crossing."""
    gate = ZoneGate(Zone.parse("160,0,160,240"))
    gate.hits(faces((5, 300, 20), (-1, 100, 100)), W, H)
    assert gate.hits(faces((5, 300, 20), (-1, 220, 100)), W, H).tolist() == [False, False]


# --- Person ---


def test_a_persons_verdict_is_the_majority_and_a_tie_is_not_masked() -> None:
    person = Person(track_id=3, first_s=1.0)
    for step, label in enumerate(["Mask", "No Mask", "Mask", "No Mask"], 1):
        person.see(step, 1.0 + step / 10, label, 0.5 + step / 10, hit=False)
    assert person.frames == 4 and person.last_step == 4 and person.last_s == pytest.approx(1.4)
    assert person.verdict == "No Mask"  # 2 against 2
    person.see(5, 1.5, "Mask", 0.9, hit=False)
    assert person.verdict == "Mask"


def test_a_person_counts_once_they_hit_and_keeps_it() -> None:
    person = Person(track_id=1, first_s=0.0)
    person.see(1, 0.0, "Mask", 0.8, hit=False)
    assert not person.counted
    person.see(2, 0.1, "Mask", 0.8, hit=True)
    person.see(3, 0.2, "Mask", 0.8, hit=False)  # out of the zone again
    assert person.counted


def test_a_persons_row_has_every_column_rounded() -> None:
    person = Person(track_id=9, first_s=0.123456)
    for step, (label, conf) in enumerate([("Mask", 0.9), ("No Mask", 0.6), ("Mask", 0.7)], 1):
        person.see(step, 0.123456 + step / 3, label, conf, hit=True)
    row = person.row()
    assert list(row) == PEOPLE_COLUMNS
    assert row == {"source": "", "track_id": 9, "first_seen_s": 0.12, "last_seen_s": 1.12, "frames_seen": 3,
                   "verdict": "Mask", "confidence": 0.667, "mean_detection_confidence": 0.733}  # fmt: skip


# --- PersonBook ---


def test_the_book_settles_people_lost_longer_than_the_tracker_keeps_them() -> None:
    book = PersonBook(lost_frames=3)
    book.see(1, 1, 0.1, "Mask", 0.9, True)
    book.see(2, 2, 0.2, "No Mask", 0.9, True)
    assert list(book.settled(4)) == [] and len(book) == 2  # 1 unseen for 3 frames: the tracker may bring it back
    assert [p.track_id for p in book.settled(5)] == [1] and len(book) == 1  # 4 frames: gone for good
    assert [p.track_id for p in book.settled(6)] == [2] and len(book) == 0
    assert list(book.settled(100)) == []


def test_a_sighting_moves_a_person_to_the_end_of_the_book() -> None:
    book = PersonBook(lost_frames=2)
    book.see(1, 1, 0.1, "Mask", 0.9, True)
    book.see(2, 2, 0.2, "Mask", 0.9, True)
    book.see(1, 3, 0.3, "Mask", 0.9, True)  # 1 again: now the most recent
    assert [p.track_id for p in book] == [2, 1]
    assert book.first_seen_s() == pytest.approx(0.1)  # the earliest arrival, wherever it is in the book
    assert [p.track_id for p in book.settled(5)] == [2]
    person = next(iter(book))
    assert person.frames == 2 and person.first_s == pytest.approx(0.1)  # one person, two sightings


def test_draining_the_book_hands_back_everyone_and_empties_it() -> None:
    book = PersonBook(lost_frames=100)
    assert book.first_seen_s() is None
    for track_id in (4, 2, 7):
        book.see(track_id, track_id, track_id / 10, "Mask", 0.9, True)
    assert [p.track_id for p in book.drain()] == [4, 2, 7]
    assert len(book) == 0 and book.first_seen_s() is None


# --- Totals ---


def seen(label: str) -> Person:
    person = Person(track_id=0, first_s=0.0)
    person.see(1, 0.0, label, 0.9, True)
    return person


def test_totals_count_people_and_masked_people() -> None:
    totals = Totals()
    assert totals.row() == {"people": 0, "masked": 0, "unmasked": 0, "compliance_rate": None}
    for label in ("Mask", "No Mask", "No Mask"):
        totals.add(seen(label))
    assert totals.row() == {"people": 3, "masked": 1, "unmasked": 2, "compliance_rate": 0.333}


# --- IntervalTally ---


@pytest.mark.parametrize("seconds", [0, -1])
def test_an_interval_must_be_longer_than_zero(seconds) -> None:
    with pytest.raises(ValueError, match="--interval must be more than 0 seconds"):
        IntervalTally(seconds)


def test_interval_boundaries_belong_to_the_next_interval() -> None:
    tally = IntervalTally(2.0)
    assert [tally.index(t) for t in (0.0, 1.999, 2.0, 5.9, 6.0)] == [0, 0, 1, 2, 3]


def at(first_s: float, label: str) -> Person:
    person = Person(track_id=0, first_s=first_s)
    person.see(1, first_s, label, 0.9, True)
    return person


def test_intervals_are_handed_out_in_order_once_each_empty_ones_too() -> None:
    tally = IntervalTally(10.0)
    tally.add(at(1.0, "Mask"))
    tally.add(at(9.9, "No Mask"))
    tally.add(at(35.0, "Mask"))
    assert len(tally) == 2
    assert list(tally.settle(9.0)) == []  # interval 0 is still open
    rows = list(tally.settle(30.0))
    assert [list(r) for r in rows] == [BUCKET_COLUMNS] * 3
    assert [(r["start_s"], r["end_s"], r["people"], r["masked"], r["compliance_rate"]) for r in rows] == [
        (0.0, 10.0, 2, 1, 0.5), (10.0, 20.0, 0, 0, None), (20.0, 30.0, 0, 0, None)
    ]  # fmt: skip
    assert list(tally.settle(30.0)) == [] and tally.written == 3 and len(tally) == 1
    [last] = list(tally.rest(35.0))  # the end of the stream: up to the interval it ended in
    assert (last["start_s"], last["people"], last["unmasked"], last["compliance_rate"]) == (30.0, 1, 0, 1.0)
    assert list(tally.rest(35.0)) == [] and len(tally) == 0


def test_short_intervals_round_their_times() -> None:
    tally = IntervalTally(0.1)
    rows = list(tally.rest(0.25))
    assert [(r["start_s"], r["end_s"]) for r in rows] == [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3)]


# --- RowWriter and the intervals CSV ---


def test_rows_are_on_disk_as_soon_as_they_are_written(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    writer = RowWriter(path, ["a", "b"])
    assert path.read_bytes() == b"a,b\r\n"  # the header, before any row and before close
    writer.write({"a": 1, "b": None})
    writer.write({"a": 2, "b": "x,y"})
    with path.open(newline="") as f:
        assert list(csv.reader(f)) == [["a", "b"], ["1", ""], ["2", "x,y"]]
    writer.close()
    with pytest.raises(ValueError):
        writer.write({"a": 3, "b": 4})


def test_interval_rows_read_back_as_numbers(tmp_path: Path) -> None:
    tally = IntervalTally(5.0)
    tally.add(at(1.0, "Mask"))
    tally.add(at(2.0, "No Mask"))
    writer = RowWriter(tmp_path / "cam_compliance.csv", BUCKET_COLUMNS)
    written = list(tally.rest(7.0))
    for row in written:
        writer.write(row)
    writer.close()
    assert read_intervals(tmp_path / "cam_compliance.csv") == written
    assert written[1]["compliance_rate"] is None
