"""The files of counted people: rows on disk as soon as written, and the intervals CSV read back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from facemask.inference.people import IntervalTally
from facemask.inference.people_files import INTERVAL_COLUMNS, RowWriter, read_intervals
from tests.inference.test_people import at


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
    writer = RowWriter(tmp_path / "cam_compliance.csv", INTERVAL_COLUMNS)
    written = list(tally.rest(7.0))
    for row in written:
        writer.write(row)
    writer.close()
    assert read_intervals(tmp_path / "cam_compliance.csv") == written
    assert written[1]["compliance_rate"] is None
