"""Zones on their own, with hand-made tracked detections (no model, no tracker): `--zone` parsed, and
which faces a polygon or a line lets count."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from facemask.inference.zones import Zone, ZoneGate

W, H = 320, 240


def faces(*boxes: tuple[int, float, float]) -> sv.Detections:
    """One frame of (tracker id, centre x, centre y) faces, 20x20 px; id -1: not in a confirmed track."""
    xyxy = np.array([[x - 10, y - 10, x + 10, y + 10] for _, x, y in boxes], float).reshape(-1, 4)
    return sv.Detections(
        xyxy=xyxy,
        class_id=np.zeros(len(boxes), int),
        confidence=np.full(len(boxes), 0.9),
        tracker_id=np.array([t for t, _, _ in boxes], int),
    )


@pytest.mark.parametrize("spec", ["1,2,3", "a,b,c,d", "1,2"])
def test_bad_zones_are_errors(spec) -> None:
    with pytest.raises(ValueError, match="--zone"):
        Zone.parse(spec)


def test_two_points_are_a_line_and_fractions_scale_with_the_frame() -> None:
    line = Zone.parse("0.5, 0, 0.5, 1")
    assert line.is_line and line.in_pixels(W, H).tolist() == [[160, 0], [160, 240]]
    square = Zone.parse("10,10,50,10,50,50")
    assert not square.is_line and square.in_pixels(W, H).tolist() == [[10, 10], [50, 10], [50, 50]]


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
