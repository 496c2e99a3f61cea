"""benchmarks/haar_cascade.py, the negatives benchmark's face finder, on a cascade file of the test's own (no
frontal-face XML comes with OpenCV 5's wheels): it reads OpenCV's format, finds each pattern once, refuses
cascades it cannot run, and --haar picks the file. Its use inside negatives_fp is in test_negatives_fp.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.haar_cascade import HAAR_FILE, HaarCascade, haar_path
from facemask.errors import FacemaskError
from tests.benchmarks.conftest import cascade_xml, draw_edge


def plain(size: tuple[int, int] = (96, 96)) -> np.ndarray:
    return np.full(size, 128, np.uint8)


def test_each_pattern_is_one_face_and_a_plain_picture_none(edge_cascade: Path) -> None:
    finder = HaarCascade(edge_cascade)
    assert finder.faces(plain()) == 0 and not finder.finds_face(plain())
    gradient = np.repeat(np.linspace(40, 220, 96).astype(np.uint8)[:, None], 96, axis=1)
    assert finder.faces(gradient) == 0  # it passes the first stage, not the second
    one = draw_edge(plain(), 10, 10)
    assert len(finder.windows(one)) > finder.min_neighbors  # many windows, at several scales, grouped as one
    assert finder.faces(one) == 1 and finder.finds_face(one)
    assert finder.faces(draw_edge(draw_edge(plain(), 4, 4), 60, 60)) == 2
    assert HaarCascade(edge_cascade, min_neighbors=len(finder.windows(one))).faces(one) == 0


@pytest.mark.parametrize(
    ("xml", "error"),
    [
        (cascade_xml(feature_type="LBP"), "not an OpenCV Haar cascade"),
        (cascade_xml(tilted=1), "tilted Haar features are not supported"),
        (cascade_xml(stump=False), "only stump cascades are supported"),
    ],
)
def test_a_cascade_it_cannot_run_is_refused(xml: str, error: str, tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text(xml)
    with pytest.raises(FacemaskError, match=error):
        HaarCascade(path)


def test_haar_choice_is_a_file_none_or_opencvs(edge_cascade: Path, tmp_path: Path) -> None:
    assert haar_path(str(edge_cascade)) == edge_cascade
    assert haar_path("none") is None and haar_path("None") is None
    with pytest.raises(FacemaskError, match=r"--haar .*missing\.xml: no such file"):
        haar_path(str(tmp_path / "missing.xml"))
    default = haar_path(None)  # OpenCV 4's or Debian's frontal-face cascade, where one is installed
    assert default is None or (default.name == HAAR_FILE and default.is_file())
