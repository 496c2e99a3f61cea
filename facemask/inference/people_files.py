"""The files of counted people: their columns, a CSV written a row at a time, the intervals read back."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

PEOPLE_COLUMNS = [
    "source",
    "track_id",
    "first_seen_s",
    "last_seen_s",
    "frames_seen",
    "verdict",
    "confidence",
    "mean_detection_confidence",
]
INTERVAL_COLUMNS = ["start_s", "end_s", "frames", "people", "masked", "unmasked", "compliance_rate"]


class RowWriter:
    """A CSV file written a row at a time and flushed at once, so a stream stopped at any moment keeps
    every row written so far."""

    def __init__(self, path: Path, columns: list[str]):
        self._file = path.open("w", newline="")
        self._csv = csv.DictWriter(self._file, columns)
        self._csv.writeheader()
        self._file.flush()

    def write(self, row: dict[str, Any]) -> None:
        self._csv.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _interval(row: dict[str, str]) -> dict[str, Any]:
    rate = row["compliance_rate"]
    return {
        "start_s": float(row["start_s"]),
        "end_s": float(row["end_s"]),
        "frames": int(row["frames"]),
        "people": int(row["people"]),
        "masked": int(row["masked"]),
        "unmasked": int(row["unmasked"]),
        "compliance_rate": float(rate) if rate else None,
    }


def read_intervals(path: Path) -> list[dict[str, Any]]:
    """The compliance CSV back as rows of numbers: the JSON and the chart are made from the file at
    close, so the intervals of a long stream need not be kept in memory while it runs."""
    with path.open(newline="") as f:
        return [_interval(row) for row in csv.DictReader(f)]
