"""The benchmarks' smoke tests: each runs a benchmark's run() as its parse_opt reads a command line, on the
smallest input (the shared tiny model and dataset of tests/conftest.py, one image, one camera, a second or
two of video), and checks the shape of the figures it returns and prints; never their values, which are
a slow machine's. Helper modules of benchmarks/ are covered through the benchmarks that use them (each
test module's docstring says which), test_every_benchmark_has_a_smoke_test.py sees that none is missed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

EDGE = (24, 24)  # width, height of the pattern the edge cascade fires on


STAGES = ((0, 0.5), (1, 0.15))  # (feature, cut) of each stage's one stump: the lower half brighter, sharply


def cascade_xml(feature_type: str = "HAAR", tilted: int = 0, stump: bool = True) -> str:
    """An OpenCV cascade XML on a 12 x 12 window, of two stages of one stump each: a window passes the first
    when its lower half is much brighter than its upper half, the second when that happens in one step at
    its middle row (which a smooth gradient does not have). `stump` False: a tree cascade's first node."""
    nodes = ["0 -1 {} {}".format(*stage) for stage in STAGES]
    if not stump:
        nodes[0] = "1 2 0 0.5 0 -1 1 0.15"
    stages = "".join(
        f"""
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>0.</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>{node}</internalNodes>
          <leafValues>-1. 1.</leafValues></_></weakClassifiers></_>"""
        for node in nodes
    )
    return f"""<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier">
  <stageType>BOOST</stageType>
  <featureType>{feature_type}</featureType>
  <height>12</height>
  <width>12</width>
  <stageNum>{len(nodes)}</stageNum>
  <stages>{stages}</stages>
  <features>
    <_>
      <rects>
        <_>0 0 12 12 -1.</_>
        <_>0 6 12 6 2.</_></rects>
      <tilted>{tilted}</tilted></_>
    <_>
      <rects>
        <_>0 5 12 2 -1.</_>
        <_>0 6 12 1 2.</_></rects>
      <tilted>0</tilted></_></features></cascade>
</opencv_storage>
"""


@pytest.fixture
def edge_cascade(tmp_path: Path) -> Path:
    """A Haar cascade file that finds a dark-over-bright patch (draw_edge), not a plain picture or a gradient."""
    path = tmp_path / "edge.xml"
    path.write_text(cascade_xml())
    return path


def draw_edge(image: np.ndarray, x: int, y: int) -> np.ndarray:
    """`image` with the edge cascade's pattern at x, y (top left): a dark half over a bright half."""
    width, height = EDGE
    image[y : y + height // 2, x : x + width] = 30
    image[y + height // 2 : y + height, x : x + width] = 230
    return image


@pytest.fixture(scope="session")
def weights(trained_run: Path) -> Path:
    """The shared tiny model (64 px)."""
    return trained_run / "weights" / "best.pt"
