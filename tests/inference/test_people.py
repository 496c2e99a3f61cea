"""People on their own, with hand-made sightings (no model, no tracker): a person's verdict and row, the
book of people whose tracks may go on, and the tally of settled people per interval."""

from __future__ import annotations

import pytest

from facemask.inference.people import IntervalTally, Person, PersonBook
from facemask.inference.people_files import INTERVAL_COLUMNS, PEOPLE_COLUMNS

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
    assert row == {
        "source": "",
        "track_id": 9,
        "first_seen_s": 0.12,
        "last_seen_s": 1.12,
        "frames_seen": 3,
        "verdict": "Mask",
        "confidence": 0.667,
        "mean_detection_confidence": 0.733,
    }


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


# --- IntervalTally ---


def at(first_s: float, label: str) -> Person:
    """A person first seen at `first_s`, seen once with `label`."""
    person = Person(track_id=0, first_s=first_s)
    person.see(1, first_s, label, 0.9, True)
    return person


@pytest.mark.parametrize("seconds", [0, -1])
def test_an_interval_must_be_longer_than_zero(seconds) -> None:
    with pytest.raises(ValueError, match="--interval must be more than 0 seconds"):
        IntervalTally(seconds)


def test_interval_boundaries_belong_to_the_next_interval() -> None:
    tally = IntervalTally(2.0)
    assert [tally.index(t) for t in (0.0, 1.999, 2.0, 5.9, 6.0)] == [0, 0, 1, 2, 3]


def test_intervals_are_handed_out_in_order_once_each_empty_ones_too() -> None:
    tally = IntervalTally(10.0)
    tally.add(at(1.0, "Mask"))
    tally.add(at(9.9, "No Mask"))
    tally.add(at(35.0, "Mask"))
    assert len(tally) == 2
    assert list(tally.settle(9.0)) == []  # interval 0 is still open
    rows = list(tally.settle(30.0))
    assert [list(r) for r in rows] == [INTERVAL_COLUMNS] * 3
    assert [(r["start_s"], r["end_s"], r["people"], r["masked"], r["compliance_rate"]) for r in rows] == [
        (0.0, 10.0, 2, 1, 0.5),
        (10.0, 20.0, 0, 0, None),
        (20.0, 30.0, 0, 0, None),
    ]
    assert list(tally.settle(30.0)) == [] and tally.written == 3 and len(tally) == 1
    [last] = list(tally.rest(35.0))  # the end of the stream: up to the interval it ended in, ending there
    assert (last["start_s"], last["end_s"], last["people"], last["compliance_rate"]) == (30.0, 35.0, 1, 1.0)
    assert list(tally.rest(35.0)) == [] and len(tally) == 0


def test_a_stream_that_ends_on_a_boundary_has_no_empty_last_interval() -> None:
    tally = IntervalTally(10.0)
    tally.add(at(5.0, "Mask"))
    assert [(r["start_s"], r["end_s"]) for r in tally.rest(20.0)] == [(0.0, 10.0), (10.0, 20.0)]
    one_frame = IntervalTally(10.0)
    one_frame.add(at(0.0, "No Mask"))  # someone seen in the only frame is still counted
    assert [(r["start_s"], r["end_s"], r["people"]) for r in one_frame.rest(0.0)] == [(0.0, 0.0, 1)]


def test_an_interval_no_frame_came_in_reads_no_frames_not_just_no_people() -> None:
    tally = IntervalTally(10.0)
    for t in (0.0, 4.0, 9.9, 31.0):  # the camera was down from 10 s to 31 s
        tally.see(t)
    tally.add(at(4.0, "Mask"))
    rows = [*tally.settle(31.0), *tally.rest(32.0)]
    assert [(r["start_s"], r["frames"], r["people"]) for r in rows] == [
        (0.0, 3, 1),
        (10.0, 0, 0),
        (20.0, 0, 0),
        (30.0, 1, 0),
    ]


def test_an_incorrectly_worn_mask_is_not_masked_in_its_interval() -> None:
    tally = IntervalTally(10.0)
    for label in ("Mask", "Incorrect", "No Mask"):
        tally.add(at(1.0, label))
    [row] = list(tally.rest(5.0))
    assert (row["people"], row["masked"], row["unmasked"], row["compliance_rate"]) == (3, 1, 2, 0.333)


def test_short_intervals_round_their_times() -> None:
    tally = IntervalTally(0.1)
    rows = list(tally.rest(0.25))
    assert [(r["start_s"], r["end_s"]) for r in rows] == [(0.0, 0.1), (0.1, 0.2), (0.2, 0.25)]
