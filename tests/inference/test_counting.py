"""Counting: faces per class, the Tally behind every compliance rate (one definition, one rounding), and
a run's summary."""

from __future__ import annotations

import numpy as np
import supervision as sv

from facemask.inference.counting import RunSummary, Tally, class_counts, format_counts, people_text

NAMES = {0: "Mask", 1: "No Mask", 2: "Incorrect"}


def test_a_tally_of_nobody_has_no_rate_not_zero() -> None:
    nobody = Tally()
    assert (nobody.people, nobody.rate, nobody.percent) == (0, None, "n/a")
    assert nobody.row() == {"people": 0, "masked": 0, "unmasked": 0, "compliance_rate": None}


def test_the_rate_is_the_share_masked_rounded_once_to_three_decimals() -> None:
    tally = Tally()
    for verdict in ("Mask", "No Mask", "No Mask"):
        tally.add(verdict)
    assert tally.row() == {"people": 3, "masked": 1, "unmasked": 2, "compliance_rate": 0.333}
    assert (Tally(2, 1).rate, Tally(2, 1).percent) == (0.667, "67%")
    assert (Tally(0, 4).rate, Tally(5, 0).rate, Tally(1, 7).rate) == (0.0, 1.0, 0.125)


def test_everything_but_mask_is_unmasked() -> None:
    tally = Tally()
    for verdict in ("Mask", "Incorrect", "No Mask", "Mask"):
        tally.add(verdict)
    assert (tally.masked, tally.unmasked, tally.rate) == (2, 2, 0.5)
    assert Tally.of_counts({"Mask": 1, "No Mask": 1, "Incorrect": 1}) == Tally(1, 2)
    assert Tally.of_counts({"Mask": 0, "No Mask": 0}).rate is None


def test_tallies_add_up_and_come_back_from_their_rows() -> None:
    door, hall = Tally(3, 1), Tally(0, 2)
    assert door + hall == Tally(3, 3) and (door + hall).rate == 0.5
    assert sum([door, hall], Tally()) == Tally(3, 3)
    assert Tally.of_row(door.row()) == door
    assert Tally.of_row({"masked": "2", "unmasked": "0"}) == Tally(2, 0)  # a CSV row read back


def test_class_counts_list_every_class_zeros_included() -> None:
    found = sv.Detections(xyxy=np.zeros((3, 4)), class_id=np.array([1, 1, 0]), confidence=np.ones(3))
    assert class_counts(found, NAMES) == {"Mask": 1, "No Mask": 2, "Incorrect": 0}
    assert class_counts(sv.Detections.empty(), NAMES) == {"Mask": 0, "No Mask": 0, "Incorrect": 0}
    assert format_counts({"Mask": 1, "No Mask": 2, "Incorrect": 0}) == "1 Mask, 2 No Mask"
    assert format_counts({"Mask": 0}) == "no faces"


def test_a_runs_summary_gives_its_compliance_rate_in_the_line_and_the_json() -> None:
    summary = RunSummary()
    summary.add({"Mask": 1, "No Mask": 2}, {"inference": 10.0}, is_video=False)
    summary.add({"Mask": 1, "No Mask": 0}, {"inference": 20.0}, is_video=True)
    assert summary.to_dict()["compliance_rate"] == 0.5
    line = "Summary: 1 image, 1 video frame; 4 faces (2 Mask, 2 No Mask); 50% masked; 15.0 ms per image"
    assert summary.line() == line
    empty = RunSummary()
    assert empty.to_dict()["compliance_rate"] is None and "masked" not in empty.line()


def test_a_count_of_people_reads_as_english() -> None:
    assert [people_text(n) for n in (0, 1, 2)] == ["0 people", "1 person", "2 people"]
    assert people_text(1, "unmasked") == "1 unmasked person" and people_text(3, "unmasked") == "3 unmasked people"
