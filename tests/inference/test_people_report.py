"""The people report of a run over several sources: each source's tally and intervals, and their sum,
interval by interval, with the one compliance rate; and its chart."""

from __future__ import annotations

from pathlib import Path

from facemask.inference.counting import Tally
from facemask.inference.media import Frame
from facemask.inference.people_files import INTERVAL_COLUMNS, RowWriter
from facemask.inference.people_report import PeopleReport


def source(tmp_path: Path, name: str, intervals: list[Tally], ended_s: float | None = None, frames: int = 100) -> dict:
    """A people counter's summary for `name`, its compliance CSV holding one 10 s interval per tally, the
    last ending at `ended_s` (default: a whole interval)."""
    path = tmp_path / f"{name}_compliance.csv"
    writer = RowWriter(path, INTERVAL_COLUMNS)
    for i, tally in enumerate(intervals):
        end_s = ended_s if ended_s is not None and i == len(intervals) - 1 else 10.0 * (i + 1)
        writer.write({"start_s": 10.0 * i, "end_s": end_s, "frames": frames, **tally.row()})
    writer.close()
    return {**sum(intervals, Tally()).row(), "files": {"compliance.csv": str(path)}}


def test_sources_add_up_interval_by_interval(tmp_path: Path) -> None:
    report = PeopleReport(chart=tmp_path / "compliance.png")
    report.source_done("door", source(tmp_path, "door", [Tally(2, 1), Tally(0, 0)], ended_s=14.0))
    report.source_done("hall", source(tmp_path, "hall", [Tally(0, 1), Tally(1, 0), Tally(0, 2)], 27.5, frames=0))
    result = report.to_dict()
    assert result["total"]["people"] == 7 and result["total"]["compliance_rate"] == 0.429
    assert [(r["start_s"], r["people"], r["masked"], r["compliance_rate"]) for r in result["total"]["intervals"]] == [
        (0.0, 4, 2, 0.5),
        (10.0, 1, 1, 1.0),
        (20.0, 2, 0, 0.0),
    ]
    spans = [(r["start_s"], r["end_s"], r["frames"]) for r in result["total"]["intervals"]]
    assert spans == [
        (0.0, 10.0, 100),
        (10.0, 20.0, 100),
        (20.0, 27.5, 0),
    ]  # one row an interval, as long as the longest source
    assert result["sources"]["door"]["intervals"][1]["compliance_rate"] is None  # nobody: no rate
    report.close()
    assert (tmp_path / "compliance.png").stat().st_size > 5000


def test_a_camera_that_never_opened_is_listed_with_why(tmp_path: Path) -> None:
    report = PeopleReport(chart=tmp_path / "compliance.png")
    down = Frame("rtsp://cam2/live", "live", is_video=True, live=True, error="cannot open (retrying in 5 s)")
    report.skip(Frame("rtsp://cam2/live", "live", is_video=True, live=True, error="refused (retrying in 5 s)"))
    report.skip(down)  # the last error is kept
    report.source_done("door", source(tmp_path, "door", [Tally(2, 1)]))
    report.skip(Frame("door", "door", is_video=True, error="lost"))  # one already counted keeps its people
    sources = report.to_dict()["sources"]
    never_up = {"name": "live", **Tally().row(), "frames": 0, "intervals": [], "error": down.error}
    assert sources["rtsp://cam2/live"] == never_up
    assert sources["door"]["people"] == 3 and "error" not in sources["door"]
    assert report.to_dict()["total"]["intervals"][0]["frames"] == 100
    report.close()
    assert (tmp_path / "compliance.png").exists()


def test_a_camera_s_login_never_reaches_the_report(tmp_path: Path) -> None:
    report = PeopleReport()
    report.skip(Frame("rtsp://guard:secret@cam2/live", "stream2", is_video=True, live=True, error="refused"))
    report.source_done("rtsp://guard:secret@cam1/live", source(tmp_path, "stream1", [Tally(1, 0)]))
    assert list(report.to_dict()["sources"]) == ["rtsp://cam2/live", "rtsp://cam1/live"]


def test_no_sources_no_people_no_rate(tmp_path: Path) -> None:
    report = PeopleReport(chart=tmp_path / "compliance.png")
    assert report.to_dict() == {"total": {**Tally().row(), "intervals": []}, "sources": {}}
    report.close()
    assert not (tmp_path / "compliance.png").exists()


def test_two_files_of_one_name_are_two_lines_in_the_chart(tmp_path: Path, monkeypatch) -> None:
    from facemask.inference import charts

    drawn = {}
    monkeypatch.setattr(charts, "people_chart", lambda bars, rates, *a, **k: drawn.update(rates))
    report = PeopleReport(chart=tmp_path / "compliance.png")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        report.source_done(f"{folder}/door.mp4", source(tmp_path / folder, "door", [Tally(1, 0)]))
    report.close()
    assert list(drawn) == ["door: compliance", "door_2: compliance"]  # named as their files are
