"""The merge as a user runs it: prepare_data.run() and the command line, on datasets the tests build."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import prepare_data
from facemask.data import merge as merge_module
from facemask.data.dedup import min_distances, rotation_hashes
from facemask.data.merge_options import MergeOptions
from facemask.data.split import read_split_list
from tests.conftest import MASK_RGB, NO_MASK_RGB, SHARED_DATASETS, Sources, background
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]


def run(src: Sources, out: Path, **kw):
    kw.setdefault("workers", 1)
    return prepare_data.run(
        sources=src.root, config=src.config, out=out, data=out.parent / "data.yaml", progress=False, **kw
    )


def labels(out: Path, split: str) -> dict[str, list[list[float]]]:
    return {
        p.stem: [[float(v) for v in line.split()] for line in p.read_text().splitlines()]
        for p in (out / "labels" / split).glob("*.txt")
    }


def image_file(out: Path, split: str, stem: str) -> Path:
    return next((out / "images" / split).glob(f"{stem}.*"))


def colour_under(image: Path, row: list[float]) -> tuple[int, ...]:
    """Colour at the centre of a YOLO box row."""
    im = Image.open(image)
    return im.getpixel((int(row[1] * im.width), int(row[2] * im.height)))


def assert_box_covers_face(image: Path, row: list[float], colour: tuple[int, int, int]) -> None:
    """The box is exactly the painted face: within a margin around it, the face-coloured pixels
    span the box and nothing more."""
    a = np.asarray(Image.open(image).convert("RGB")).astype(int)
    h, w = a.shape[:2]
    x1, y1 = round((row[1] - row[3] / 2) * w), round((row[2] - row[4] / 2) * h)
    x2, y2 = round((row[1] + row[3] / 2) * w), round((row[2] + row[4] / 2) * h)
    m = 4
    wx, wy = max(0, x1 - m), max(0, y1 - m)
    window = a[wy : y2 + m, wx : x2 + m]
    ys, xs = np.nonzero(np.abs(window - colour).sum(axis=2) < 60)
    found = (xs.min() + wx, ys.min() + wy, xs.max() + 1 + wx, ys.max() + 1 + wy)
    # JPEG's 2x2 chroma subsampling blurs colour edges by up to 2 px; test_geometry checks exactness losslessly.
    assert found == pytest.approx((x1, y1, x2, y2), abs=2)


def test_merge_remaps_classes_counts_and_drop_reasons(sources: Sources, tmp_path: Path, capsys) -> None:
    out = tmp_path / "merged"
    report = run(sources, out)
    # an empty label file is dropped, and the summary says how to keep photos without faces
    assert "is dropped (1 here); photos checked to have no faces" in capsys.readouterr().out
    saved = json.loads((out / "report.json").read_text())
    assert Image.open(out / "report.png").size[0] > 600  # the report as a picture
    for source, drops in sources.expected_drops.items():
        assert saved["sources"][source]["images"]["dropped"] == drops, source
    # 12 plain + 4 quirky images (webp, alpha, palette, exif) read well in 'nextto'; 12 + 1 duplicate in 'split'.
    kept = {s: saved["sources"][s]["images"]["kept"] for s in saved["sources"]}
    assert kept == {"voc": 11, "nextto": 16, "split": 13}
    assert sum(v["photos"] for v in report.splits.values()) == 40
    # Every kept image has one Mask (id 0) and one No Mask (id 1), whatever the source's ids were,
    # and the class-0 box sits on the green face.
    for split in ("train", "val", "test"):
        for stem, rows in labels(out, split).items():
            assert sorted(r[0] for r in rows) == [0, 1], stem
            mask_row = next(r for r in rows if r[0] == 0)
            assert colour_under(image_file(out, split, stem), mask_row)[:3] == pytest.approx(MASK_RGB, abs=30)
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == {0: "Mask", 1: "No Mask"}
    # Each skipped file is listed with its reason; an unknown class names the class and the file.
    unknown = next(s for s in saved["skipped"] if s["reason"] == "unknown class" and s["source"] == "voc")
    assert "'face_shield'" in unknown["detail"] and "alien.xml" in unknown["detail"]
    boxes = saved["sources"]["voc"]["boxes"]
    assert boxes["Incorrect"]["dropped"] == {"incorrect mask": 1}
    assert boxes["Mask"]["dropped"]["invalid box"] == 2


def test_outputs_are_plain_rgb_files_with_safe_unique_names(sources: Sources, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    run(sources, out, rotate=False)
    images = list((out / "images").rglob("*.*"))
    assert len({p.stem for p in images}) == len(images) == 40
    for p in images:
        assert p.name.isascii() and " " not in p.name and "(" not in p.name
        with Image.open(p) as im:
            assert im.mode == "RGB"
            assert {"JPEG": ".jpg", "PNG": ".png"}[im.format] == p.suffix
        assert (out / "labels" / p.parent.name / f"{p.stem}.txt").is_file()
    webp = next(p for p in images if "webp_named" in p.name)
    assert webp.suffix == ".jpg"
    alpha = next(p for p in images if "alpha" in p.name)
    assert Image.open(alpha).getpixel((0, 0)) == (255, 255, 255)  # transparency flattened on white


def test_rotated_copies_only_in_train_and_boxes_follow_the_faces(sources: Sources, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    report = run(sources, out)
    assert not list((out / "images" / "val").glob("*_rot*")) and not list((out / "images" / "test").glob("*_rot*"))
    train = labels(out, "train")
    originals = [s for s in train if "_rot" not in s]
    assert report.splits["train"]["rotated"] == 3 * len(originals) > 0
    for stem in originals:
        for suffix in ("", "_rot90", "_rot180", "_rot270"):
            for row in train[stem + suffix]:
                colour = MASK_RGB if row[0] == 0 else NO_MASK_RGB
                assert_box_covers_face(image_file(out, "train", stem + suffix), row, colour)


def test_exif_oriented_photo_is_written_upright_with_exact_boxes(sources: Sources, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    run(sources, out, rotate=False, split="1/0/0")
    stem = next(s for s in labels(out, "train") if "exif6" in s)
    image = image_file(out, "train", stem)
    assert Image.open(image).size == (160, 120)  # stored 120x160, shown upright
    for row in labels(out, "train")[stem]:
        assert_box_covers_face(image, row, MASK_RGB if row[0] == 0 else NO_MASK_RGB)


def test_near_duplicates_never_straddle_splits(sources: Sources, tmp_path: Path) -> None:
    # Add brightened and re-encoded variants of several photos (like the augmented copies in real sets).
    spl = sources.root / "split-set"
    for i in range(1, 12):
        sub = "train" if i % 4 else "val"
        im = Image.open(spl / "images" / sub / f"{i}.jpg")
        variant = Image.eval(im, lambda v: min(255, int(v * 1.08)))
        variant.save(spl / "images" / sub / f"{i}_aug.jpg", quality=60)
        (spl / "labels" / sub / f"{i}_aug.txt").write_text((spl / "labels" / sub / f"{i}.txt").read_text())
    out = tmp_path / "merged"
    run(sources, out, rotate=False, split="50/30/20", dup_distance=0)
    where = {p.stem: p.parent.name for p in (out / "images").rglob("*.*")}
    hashes = {
        stem: rotation_hashes(Image.open(next((out / "images" / s).glob(f"{stem}.*")))) for stem, s in where.items()
    }
    stems = list(hashes)
    h = np.stack([hashes[s] for s in stems])
    for i, stem in enumerate(stems):
        for j in np.nonzero(min_distances(h, i) <= MergeOptions().group_distance)[0]:
            assert where[stems[j]] == where[stem], (stem, stems[j])
    assert len(set(where.values())) == 3


def test_split_is_deterministic_for_a_seed(sources: Sources, tmp_path: Path) -> None:
    a = run(sources, tmp_path / "a", rotate=False, seed=3)
    b = run(sources, tmp_path / "b", rotate=False, seed=3, workers=2)
    files = lambda d: sorted(p.relative_to(d).as_posix() for p in (d / "images").rglob("*.*"))  # noqa: E731
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert a.splits == b.splits


def test_a_kept_split_list_keeps_every_photo_where_it_was(sources: Sources, tmp_path: Path) -> None:
    """A model trained on one merge stays honest on the next: its train photos never reach val or test,
    even with another seed (how copies found only later move: test_split)."""
    first = run(sources, tmp_path / "a", rotate=False, split="50/30/20")
    listed = read_split_list(tmp_path / "a" / "splits.csv")
    assert sorted(listed) == sorted(p.stem for p in (tmp_path / "a" / "images").rglob("*.*"))
    assert all(listed[p.stem] == p.parent.name for p in (tmp_path / "a" / "images").rglob("*.*"))
    trained, tested = (next(k for k, s in listed.items() if s == split) for split in ("train", "test"))
    listed[tested] = "train"  # as if a better copy search had found `tested` to be a copy of a train photo
    changed = tmp_path / "splits.csv"
    changed.write_text("image,split\n" + "".join(f"{k},{s}\n" for k, s in listed.items()))
    report = run(sources, tmp_path / "b", rotate=False, split="50/30/20", seed=7, keep_split=changed)
    again = read_split_list(tmp_path / "b" / "splits.csv")
    assert again == listed and again[trained] == "train"
    assert report.kept_split == {"file": str(changed), "listed": len(listed), "moved": {}}
    assert {s: v["photos"] for s, v in report.splits.items()} != {s: v["photos"] for s, v in first.splits.items()}
    assert json.loads((tmp_path / "b" / "report.json").read_text())["kept_split"]["listed"] == len(listed)
    fresh = run(sources, tmp_path / "c", rotate=False, split="50/30/20", seed=7, keep_split="none")
    assert fresh.kept_split == {} and read_split_list(tmp_path / "c" / "splits.csv") != listed


@pytest.mark.parametrize(("policy", "names", "incorrect_ids"), [("no-mask", 2, [1]), ("class", 3, [2])])
def test_incorrect_mask_policies(sources: Sources, tmp_path: Path, policy: str, names: int, incorrect_ids) -> None:
    out = tmp_path / "merged"
    run(sources, out, incorrect=policy, rotate=False, split="1/0/0")
    assert len(yaml.safe_load((out / "data.yaml").read_text())["names"]) == names
    rows = labels(out, "train")
    kept = [r for stem, rs in rows.items() if "incorrect" in stem for r in rs]
    assert [r[0] for r in kept] == incorrect_ids  # the photo is kept once (its copy is a duplicate)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: what must survive a refused run."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_exist_ok_replaces_only_a_dataset_the_merge_made(sources: Sources, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="--exist-ok"):
        run(sources, out)
    with pytest.raises(FileExistsError, match="did not write"):  # a user's folder, even with --exist-ok
        run(sources, out, exist_ok=True, rotate=False)
    assert tree(out) == {"keep.txt": b"precious"}

    ours = tmp_path / "ours"
    run(sources, ours, rotate=False)
    (ours / "labels" / "train.cache").write_bytes(b"ultralytics writes this")  # an expected visitor
    run(sources, ours, exist_ok=True, rotate=False, seed=1)  # our own dataset is replaced
    assert json.loads((ours / "report.json").read_text())["options"]["seed"] == 1
    (ours / "images" / "notes.txt").write_text("mine")  # a user's file inside our dataset
    before = tree(ours)
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        run(sources, ours, exist_ok=True, rotate=False)
    assert tree(ours) == before


def test_out_that_is_a_file_or_overlaps_the_sources_is_refused(sources: Sources, tmp_path: Path) -> None:
    before = tree(sources.root)
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    for out, match in [
        (a_file, "is a file"),
        (sources.root, "overlaps"),
        (sources.root / "voc-set", "overlaps"),
        (sources.root / "new-inside", "overlaps"),
        (tmp_path, "overlaps"),
    ]:
        with pytest.raises(FileExistsError, match=match):
            run(sources, out, exist_ok=True)
    assert tree(sources.root) == before and a_file.read_text() == "not a folder"
    result = run_script(
        ROOT / "prepare_data.py",
        ["--sources", sources.root, "--config", sources.config, "--out", sources.root, "--exist-ok"],
        tmp_path,
    )
    assert result.code == 2 and result.stderr.count("\n") == 1 and "overlaps the input" in result.stderr
    assert tree(sources.root) == before


def test_split_that_leaves_test_empty_is_reported(sources: Sources, tmp_path: Path, capsys) -> None:
    run(sources, tmp_path / "merged", rotate=False, split="0.99/0.01/0")
    assert "WARNING: the test split is empty" in capsys.readouterr().out


def test_interrupted_run_leaves_nothing_behind(sources: Sources, tmp_path: Path, monkeypatch) -> None:
    calls = Counter()
    real = merge_module.write_sample

    def interrupt_after_three(job, root):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(job, root)

    monkeypatch.setattr(merge_module, "write_sample", interrupt_after_three)
    out = tmp_path / "merged"
    with pytest.raises(KeyboardInterrupt):
        run(sources, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no dataset, no partial folder


def test_blur_threshold_drops_blurry_images(sources: Sources, tmp_path: Path) -> None:
    voc = sources.root / "voc-set"
    Image.open(voc / "images" / "maks3.jpg").resize((16, 12)).resize((160, 120), Image.Resampling.BILINEAR).save(
        voc / "images" / "maks3.jpg"
    )
    report = run(sources, tmp_path / "merged", blur_threshold=8.0, rotate=False)
    assert [s["file"] for s in report.skipped if s["reason"] == "blurry"] == ["images/maks3.jpg"]


def test_data_yaml_is_pointed_at_the_output_but_not_replaced_silently(sources: Sources, tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    run(sources, tmp_path / "merged", rotate=False)
    assert yaml.safe_load(data.read_text())["path"] == str((tmp_path / "merged").resolve())
    run(sources, tmp_path / "other", rotate=False)  # data.yaml names 'merged': left alone
    assert yaml.safe_load(data.read_text())["path"].endswith("merged")


def test_download_without_credentials_stops_before_writing(tmp_path: Path, monkeypatch) -> None:
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out, cache = tmp_path / "merged", tmp_path / "cache"
    result = run_script(ROOT / "prepare_data.py", ["--download", "--out", out, "--cache", cache], tmp_path)
    assert result.code != 0
    assert result.stderr.strip().count("\n") == 0 and "Kaggle credentials not found" in result.stderr
    assert not out.exists() and not cache.exists()


def test_cli_errors_are_one_line(sources: Sources, tmp_path: Path) -> None:
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text(sources.config.read_text().replace("without_mask: No Mask", "without_mask: Nomask"))
    result = run_script(
        ROOT / "prepare_data.py", ["--sources", sources.root, "--config", bad_config, "--out", tmp_path / "o"], tmp_path
    )
    assert result.code == 2
    assert result.stderr.count("\n") == 1
    assert "'without_mask'" in result.stderr and "bad.yaml" in result.stderr
    for flag, value in [
        ("--split", "0.5,0.6,0.1"),
        ("--dup-distance", "-1"),
        ("--negatives-share", "1"),
        ("--workers", "0"),
        ("--min-box", "nan"),
        ("--keep-split", str(bad_config)),
    ]:
        result = run_script(
            ROOT / "prepare_data.py", ["--sources", sources.root, flag, value, "--out", tmp_path / "o"], tmp_path
        )
        assert result.code == 2 and flag in result.stderr.splitlines()[-1] and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


# What in the real downloads a merge must cope with: WebP and PNG files named .jpg or .png, RGBA PNGs, images
# whose label file is missing (8) or empty (1); sergiovirahonda's photo of two people in 14 copies, most of
# them tight crops (the copy search once left six of them in test and one in train); and duplicates within
# and across sources (REAL_DUPLICATES: one of each pair is dropped).
ANDREW, ADITYA, SERGIO = (
    "andrewmvd-face-mask-detection/images",
    "aditya276-face-mask-dataset-yolo-format/images",
    "sergiovirahonda-face-mask-dataset/images",
)
REAL_DUPLICATES = [
    (f"{ANDREW}/maksssksksss405.jpg", f"{ANDREW}/maksssksksss291.jpg"),
    (f"{ANDREW}/maksssksksss412.jpg", f"{SERGIO}/train/965.jpg"),
    (f"{ANDREW}/maksssksksss689.jpg", f"{ADITYA}/test/Untitled-design-13.png"),
    (f"{ANDREW}/maksssksksss6.jpg", f"{ADITYA}/train/d3144235.jpg"),
    (f"{ANDREW}/maksssksksss165.jpg", f"{SERGIO}/train/3304.jpg"),
    (f"{SERGIO}/train/1001.jpg", f"{SERGIO}/train/1004.jpg"),
]
REAL_QUIRKS = {
    "aditya276-face-mask-dataset-yolo-format": [
        "images/test/TELEMMGLPICT000222274435_trans_NvBQzQNjv4BqpVlberWd9EgFPZtcLiMQfyf2A9a6I9YchsjMeADBa08.jpeg",
        "images/test/Untitled-design-13.png",
        "images/train/1-200102094256105.png",
        "images/train/1_3-770x433.png",
        "images/train/856150-mask-notice.jpg",
        "images/train/cropped_image_l.png",
        "images/train/facemask.jpg",
    ],
    "sergiovirahonda-face-mask-dataset": [
        *(f"images/train/{i}.jpg" for i in (1705, 2100, 2236, 690, 3332)),
        *(f"images/val/{i}.jpg" for i in (3927, 4142, 4189, 4268)),
        *(f"images/train/{i}.jpg" for i in range(911, 930) if i not in (920, 923, 928)),
    ],
}
TWO_PEOPLE = (912, 913, 914, 915, 916, 917, 918, 919, 921, 922, 924, 925, 926, 927)


def real_sample(root: Path, every: int) -> dict[str, int]:
    """A copy of ../shared/datasets (as links) holding every `every`-th image of each source, the
    REAL_QUIRKS and REAL_DUPLICATES, with their label files and every other file (a source's own yaml,
    say); returns the images per source folder."""
    counts = {}
    for source in sorted(p for p in SHARED_DATASETS.iterdir() if p.is_dir()):
        files = sorted(p for p in source.rglob("*") if p.is_file())
        images = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")]
        keep = set(images[::every]) | {source / q for q in REAL_QUIRKS.get(source.name, [])}
        keep |= {SHARED_DATASETS / q for pair in REAL_DUPLICATES for q in pair} & set(images)
        stems = {p.stem for p in keep}
        labels = {p for p in files if p.suffix.lower() in (".txt", ".xml") and p.stem not in stems}
        left_out = set(images) - keep | labels
        for f in files:
            if f not in left_out:
                link = root / source.name / f.relative_to(source)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(f)
        counts[source.name] = len(keep)
    return counts


@pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason="../shared/datasets not present")
def test_merge_of_a_sample_of_the_real_sources(tmp_path: Path) -> None:
    """Every step of the merge on real files: a fortieth of each source and its quirks (the whole of
    them: the slow test below)."""
    counts = real_sample(tmp_path / "sources", every=40)
    out = tmp_path / "face_masks"
    # In one process (test_split_is_deterministic_for_a_seed runs the merge on two).
    report = prepare_data.run(
        sources=tmp_path / "sources", out=out, data=tmp_path / "data.yaml", progress=False, workers=1
    )
    folders = {
        "andrewmvd": "andrewmvd-face-mask-detection",
        "aditya276": "aditya276-face-mask-dataset-yolo-format",
        "sergiovirahonda": "sergiovirahonda-face-mask-dataset",
    }
    assert {s: t["read"] for s, t in report.images.items()} == {s: counts[f] for s, f in folders.items()}
    assert report.dropped("missing label") == 8 and report.dropped("empty label") == 1
    assert report.dropped("unreadable image") == 0  # WebP-as-.jpg and RGBA PNGs are read, not lost
    assert report.dropped("duplicate") > len(REAL_DUPLICATES)  # those, and more that the sample holds by chance
    photos = {s: v["photos"] for s, v in report.splits.items()}
    assert report.splits["train"]["rotated"] == 3 * photos["train"] and min(photos.values()) > 0
    assert not list((out / "images" / "val").glob("*_rot*")) and not list((out / "images" / "test").glob("*_rot*"))
    # The shipped model's split is kept: a photo stays in its listed split or joins an earlier one with a copy.
    listed = read_split_list(prepare_data.SPLIT_LISTS["two classes"])
    with open(out / "splits.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    known = [r for r in rows if r["image"] in listed]  # the others were duplicates of photos not sampled
    assert report.kept_split["listed"] == len(known) > len(rows) / 2 and len(rows) == sum(photos.values())
    order = ("train", "val", "test")
    assert all(order.index(r["split"]) <= order.index(listed[r["image"]]) for r in known)
    family = [r for r in rows if r["source"] == "sergiovirahonda" and int(r["image"].split("_")[1]) in TWO_PEOPLE]
    assert len(family) >= 8 and len({r["group"] for r in family}) == 1 and len({r["split"] for r in family}) == 1


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason="../shared/datasets not present")
def test_merge_of_the_real_sources(tmp_path: Path) -> None:
    """The whole of the three sources (about 75 s on two cores), as the shipped model's data was made."""
    out = tmp_path / "face_masks"
    report = prepare_data.run(sources=SHARED_DATASETS, out=out, data=tmp_path / "data.yaml", progress=False, workers=2)
    images = {s: t["read"] for s, t in report.images.items()}
    assert images == {"andrewmvd": 647, "aditya276": 685, "sergiovirahonda": 2913}
    assert report.dropped("missing label") == 8 and report.dropped("empty label") == 1
    assert report.dropped("unreadable image") == 0  # WebP-as-.jpg and RGBA PNGs are read, not lost
    assert report.dropped("duplicate") > 500  # the sets share many photos
    photos = {s: v["photos"] for s, v in report.splits.items()}
    total = sum(photos.values())
    assert abs(photos["train"] / total - 0.85) < 0.02 and abs(photos["test"] / total - 0.05) < 0.02
    assert report.splits["train"]["rotated"] == 3 * photos["train"]
    assert not list((out / "images" / "val").glob("*_rot*")) and not list((out / "images" / "test").glob("*_rot*"))
    # The shipped model's split list is kept as it is: this merge finds no copy across its splits.
    assert report.kept_split["moved"] == {} and report.kept_split["listed"] == total
    with open(out / "splits.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "sergiovirahonda"]
    family = [r for r in rows if int(r["image"].split("_")[1]) in TWO_PEOPLE]
    assert len(family) >= 8 and len({r["group"] for r in family}) == 1 and len({r["split"] for r in family}) == 1


def test_negatives_are_added_with_empty_labels_and_capped(sources: Sources, tmp_path: Path) -> None:
    negatives = tmp_path / "no_faces"
    negatives.mkdir()
    for i in range(12):
        background(100 + i, (200, 150)).save(negatives / f"street {i}.jpg")
    face_photo = sources.root / "voc-set" / "images" / "maks1.jpg"
    (negatives / "copy_of_a_face_photo.jpg").write_bytes(face_photo.read_bytes())  # not a negative at all
    out = tmp_path / "merged"
    report = run(sources, out, rotate=False, negatives=negatives, negatives_share=0.1)
    tally = report.images["negatives"]
    assert tally["read"] == 13 and tally["dropped"]["duplicate"] == 1
    # 40 face photos: 10% negatives means 4 of 44.
    assert tally["kept"] == 4 and tally["dropped"]["over negatives cap"] == 8
    written = [p for p in (out / "labels").rglob("negatives_*.txt")]
    assert len(written) == 4 and all(p.read_text() == "" for p in written)
    assert json.loads((out / "report.json").read_text())["sources"]["negatives"]["images"]["kept"] == 4
