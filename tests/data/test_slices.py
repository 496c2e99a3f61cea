"""Sliced training copies of crowd photos (`prepare_data.py --slices`): every tile's labels are exactly the
faces painted in it, no tile cuts a face, and tiles are copies in train only, never photos of their own."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

import prepare_data
from facemask.data.slices import SLIVER, SliceOptions, slice_photo, slice_windows
from facemask.geometry import to_yolo
from tests.conftest import MASK_RGB, NO_MASK_RGB, Sources, background, draw_faces, yolo_line
from tests.data.test_prepare_data import assert_box_covers_face, image_file, labels, run

COLOURS = (MASK_RGB, NO_MASK_RGB)  # class id -> painted colour
CROWD = (1600, 1000)
SLICE = re.compile(r"_s\d+$")


def crowd_faces(seed: int, n: int = 30, size: tuple[int, int] = CROWD) -> list[tuple[int, tuple[int, ...]]]:
    """`n` small faces (16-40 px) of random class, one per 100 px cell of a grid, so none overlap."""
    rng = np.random.default_rng(seed)
    cells = [(x, y) for x in range(0, size[0], 100) for y in range(0, size[1], 100)]
    faces = []
    for i in rng.choice(len(cells), n, replace=False):
        (cx, cy), (w, h) = cells[i], rng.integers(16, 41, 2)
        x, y = cx + rng.integers(0, 100 - w), cy + rng.integers(0, 100 - h)
        faces.append((int(rng.integers(0, 2)), (int(x), int(y), int(x + w), int(y + h))))
    return faces


def visible(face: tuple[int, ...], window: tuple[int, ...]) -> float:
    x1, y1, x2, y2 = face
    w = max(0, min(x2, window[2]) - max(x1, window[0]))
    h = max(0, min(y2, window[3]) - max(y1, window[1]))
    return w * h / ((x2 - x1) * (y2 - y1))


def sliced(faces: list[tuple[int, tuple[int, ...]]], seed: int = 0):
    image = draw_faces(background(seed, CROWD), [(COLOURS[c], b) for c, b in faces])
    boxes = to_yolo(np.array([b for _, b in faces], float), *CROWD)
    return slice_photo(image, boxes, [c for c, _ in faces], SliceOptions())


def face_pixels(a: np.ndarray) -> np.ndarray:
    """Mask of the pixels painted in a face colour (no background pixel has one: conftest.background)."""
    return np.isin(a @ [65536, 256, 1], [r * 65536 + g * 256 + b for r, g, b in COLOURS])


def test_each_slice_labels_exactly_the_faces_inside_it() -> None:
    faces = crowd_faces(1)
    slices = sliced(faces)
    assert 0 < len(slices) < len(slice_windows(*CROWD, SliceOptions()))  # some tiles cut a face: skipped
    clipped = 0
    for s in slices:
        assert s.size == (512, 512)
        x1, y1, x2, y2 = s.window
        inside = [(c, b) for c, b in faces if visible(b, s.window) >= SliceOptions().min_visible]
        clipped += sum(visible(b, s.window) < 1 for _, b in inside)
        expected = sorted((c, max(b[0], x1), max(b[1], y1), min(b[2], x2), min(b[3], y2)) for c, b in inside)
        got = sorted((c, *np.add(b, [x1, y1, x1, y1])) for c, b in zip(s.class_ids, s.boxes, strict=True))
        assert np.array(got) == pytest.approx(np.array(expected))
        a = np.asarray(s.image).astype(int)
        labelled = np.zeros(a.shape[:2], bool)
        for c, (cx, cy, w, h) in zip(s.class_ids, s.labels * 512, strict=True):  # the YOLO rows, read back
            box = np.s_[round(cy - h / 2) : round(cy + h / 2), round(cx - w / 2) : round(cx + w / 2)]
            assert (a[box] == COLOURS[c]).all()  # the box is all face, of its class's colour
            labelled[box] = True
        slivers = [visible(b, s.window) * (b[2] - b[0]) * (b[3] - b[1]) for _, b in faces]
        left_out = sum(v for v, (_, b) in zip(slivers, faces, strict=True) if visible(b, s.window) <= SLIVER)
        assert (face_pixels(a) & ~labelled).sum() == pytest.approx(left_out, abs=0.5)  # only slivers unlabelled
    assert clipped  # faces cut by a tile edge but mostly inside are kept, clipped


def test_no_slice_cuts_a_face_below_min_visible() -> None:
    for seed in range(3):
        faces = crowd_faces(seed, n=60)
        for s in sliced(faces, seed):
            shares = [visible(b, s.window) for _, b in faces]
            assert all(v >= SliceOptions().min_visible or v <= SLIVER for v in shares), s.window


def test_photos_with_few_faces_or_no_larger_than_a_slice_get_none() -> None:
    few = crowd_faces(2, n=SliceOptions().min_faces - 1)
    assert sliced(few) == []
    small = [(c, b) for c, b in crowd_faces(3, n=12, size=(500, 500))]
    image = draw_faces(background(0, (500, 500)), [(COLOURS[c], b) for c, b in small])
    boxes = to_yolo(np.array([b for _, b in small], float), 500, 500)
    assert slice_photo(image, boxes, [c for c, _ in small], SliceOptions()) == []


def add_crowds(src: Sources, n: int) -> list[str]:
    """`n` crowd photos in the 'split' source's train folder; returns their file stems."""
    folder = src.root / "split-set"
    for i in range(n):
        faces = crowd_faces(10 + i)
        draw_faces(background(500 + i, CROWD), [(COLOURS[c], b) for c, b in faces]).save(
            folder / "images" / "train" / f"crowd{i}.jpg", quality=95
        )
        lines = "".join(yolo_line(c, b, CROWD) for c, b in faces)
        (folder / "labels" / "train" / f"crowd{i}.txt").write_text(lines)
    return [f"crowd{i}" for i in range(n)]


def test_prepare_data_slices_only_train_crowds_and_lists_each_photo_once(
    sources: Sources, tmp_path: Path, capsys
) -> None:
    crowds = add_crowds(sources, 6)
    out = tmp_path / "merged"
    report = run(sources, out, rotate=False, split="50/30/20", keep_split="none", slices=512)
    with open(out / "splits.csv", newline="") as f:
        listed = {row["image"]: row["split"] for row in csv.DictReader(f)}
    assert not any(SLICE.search(name) for name in listed)  # tiles are copies, not photos
    crowd_split = {n: s for n, s in listed.items() if any(f"_{c}_" in n for c in crowds)}
    assert len(crowd_split) == len(crowds) and set(crowd_split.values()) != {"train"}
    for split in ("train", "val", "test"):
        stems = {p.stem for p in (out / "images" / split).iterdir()}
        tiles = {s for s in stems if SLICE.search(s)}
        assert stems - tiles == {n for n, s in listed.items() if s == split}  # each photo once, in its split
        assert report.splits[split]["sliced"] == len(tiles)
        if split != "train":
            assert not tiles
    assert f"(+{report.splits['train']['sliced']} slices)" in capsys.readouterr().out
    train_tiles = labels(out, "train")
    for name in (n for n, s in crowd_split.items() if s == "train"):
        mine = [t for t in train_tiles if t.startswith(f"{name}_s")]
        assert mine
        for stem in mine:
            for row in train_tiles[stem]:
                assert_box_covers_face(image_file(out, "train", stem), row, COLOURS[int(row[0])])


def test_slices_flag_is_off_unless_given() -> None:
    assert prepare_data.parse_opt(["--sources", "x"]).slices is None
    assert prepare_data.parse_opt(["--sources", "x", "--slices", "512"]).slices == 512
