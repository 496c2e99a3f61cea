"""Tiny datasets in each source layout, with the quirks of the real downloads and the bad inputs a
merge must survive. Faces are solid rectangles (green = Mask, red = No Mask) on a smooth random
background, so a test can check that a box covers its face by looking at pixel colours.

Layout: tests/<stage>/ mirrors facemask/<stage>/ (data, audit, model, inference, app), and a script's
tests sit beside the stage it drives (prepare_data.py in data/, audit_labels.py in audit/, train.py,
val.py and export.py in model/, detect.py in inference/, app.py in app/); tests/ itself keeps the top-level
shared modules (geometry, images) and what spans every stage (bad inputs, the container, the notebook).

One model: the default run (`python -m pytest`, on up to four pytest-xdist workers) trains only `tiny_run`
below, once, shared by every test and worker that needs weights. Tests marked `slow` train models of their
own or merge the whole of the real sources, and are left out of it (`-m slow` runs them, `-m ""`
everything); each repeats, at full size, what a default test covers with the shared model or a sample."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import pickle
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from filelock import FileLock
from PIL import Image

from tests.browser import browser  # noqa: F401  (the one Chromium of a test process, for every stage's tests)
from tests.services import mosquitto, pg_url, postgres  # noqa: F401  (real servers, one of each per process)

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def pytest_configure(config: pytest.Config) -> None:
    """Start the server the scripts are forked from (tests/scripts.py), before any test runs, with pytest's
    output capture off: the modules it imports bind the real stdout. Not in a pytest-xdist controller,
    which runs no test."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    if hasattr(config, "workerinput"):  # workers share the cores: torch's thread pool sized to one's share
        share = (os.cpu_count() or 1) // config.workerinput["workercount"]
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, share)))
    from tests import scripts

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        capture = config.pluginmanager.getplugin("capturemanager")  # None with -p no:capture
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            scripts.start()
    for warning in caught:  # into pytest's warnings summary, as those of an import while collecting would be
        where = f"{warning.filename}:{warning.lineno}"
        config.issue_config_time_warning(warning.category(f"{warning.message} (at {where})"), stacklevel=2)


MASK_RGB, NO_MASK_RGB, INCORRECT_RGB = (0, 200, 0), (220, 0, 0), (0, 0, 220)

CONFIG = """
sources:
  voc:
    folder: voc-set
    format: voc
    images: images
    labels: annotations
    classes: {with_mask: Mask, without_mask: No Mask, mask_weared_incorrect: Incorrect}
    download: {kaggle: someone/voc-set}
  nextto:
    folder: nextto-set
    format: yolo
    images: images
    labels: images
    classes: {0: No Mask, 1: Mask}
    download: {kaggle: someone/nextto-set}
  split:
    folder: split-set
    format: yolo
    images: images
    labels: labels
    classes: {0: Mask, 1: No Mask}
    download: {url: https://example.com/split-set.zip}
"""


def background(seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    """A smooth random picture: distinct seeds give far-apart perceptual hashes."""
    # Channels stay within 60-190, so no background pixel looks like a pure green, red or blue face.
    grid = (60 + np.random.default_rng(seed).random((5, 5, 3)) * 130).astype(np.uint8)
    return Image.fromarray(grid).resize(size, Image.Resampling.BICUBIC)


def draw_faces(image: Image.Image, faces: list[tuple[tuple[int, int, int], tuple[int, int, int, int]]]) -> Image.Image:
    """Paint each (colour, (x1, y1, x2, y2)) box; pixel-exact, so boxes can be checked by colour."""
    a = np.array(image)
    for colour, (x1, y1, x2, y2) in faces:
        a[y1:y2, x1:x2] = colour
    return Image.fromarray(a)


def yolo_line(cls: int, box: tuple[int, int, int, int], size: tuple[int, int]) -> str:
    (x1, y1, x2, y2), (w, h) = box, size
    return f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n"


def voc_xml(objects: list[tuple[str, tuple[int, int, int, int]]], size: tuple[int, int], filename: str) -> str:
    objs = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
        for n, b in objects
    )
    return (
        f"<annotation><folder>images</folder><filename>{filename}</filename>"
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>"
    )


@dataclass
class Sources:
    """The built sources folder, its config, and what the tests need to know about it."""

    root: Path
    config: Path
    expected_drops: dict[str, dict[str, int]] = field(default_factory=dict)
    faces: dict[str, list] = field(default_factory=dict)  # source/rel -> faces drawn (colour, box)


def build_sources(root: Path, n_plain: int = 12) -> Sources:
    """Three sources; every plain image has one Mask and one No Mask face."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "datasets.yaml").write_text(CONFIG)
    src = Sources(root / "sets", root / "datasets.yaml")
    size = (160, 120)
    seed = iter(range(1000))

    def plain(sd: int) -> tuple[Image.Image, list]:
        faces = [(MASK_RGB, (10, 20, 50, 70)), (NO_MASK_RGB, (90, 30, 140, 90))]
        return draw_faces(background(sd, size), faces), faces

    # --- VOC, andrewmvd-like: <filename> says .png, images are .jpg ---
    voc = src.root / "voc-set"
    (voc / "images").mkdir(parents=True)
    (voc / "annotations").mkdir()
    for i in range(n_plain):
        im, faces = plain(next(seed))
        im.save(voc / "images" / f"maks{i}.jpg", quality=95)
        names = ["with_mask", "without_mask"]
        (voc / "annotations" / f"maks{i}.xml").write_text(
            voc_xml([(n, b) for n, (_, b) in zip(names, faces, strict=True)], size, f"maks{i}.png")
        )
        src.faces[f"voc/images/maks{i}.jpg"] = faces
    im = draw_faces(background(next(seed), size), [(INCORRECT_RGB, (30, 30, 70, 80))])
    im.save(voc / "images" / "incorrect.jpg")
    (voc / "annotations" / "incorrect.xml").write_text(
        voc_xml([("mask_weared_incorrect", (30, 30, 70, 80))], size, "x.png")
    )
    background(next(seed), size).save(voc / "images" / "badxml.jpg")
    (voc / "annotations" / "badxml.xml").write_text("<annotation><object><name>with_mask</name>")
    background(next(seed), size).save(voc / "images" / "alien.jpg")
    (voc / "annotations" / "alien.xml").write_text(voc_xml([("face_shield", (10, 10, 60, 60))], size, "alien.png"))
    background(next(seed), size).save(voc / "images" / "outside.jpg")
    (voc / "annotations" / "outside.xml").write_text(
        voc_xml([("with_mask", (500, 500, 600, 600)), ("with_mask", (5, 5, 5, 40))], size, "o.png")
    )

    # --- YOLO with labels next to images, aditya276-like quirks ---
    nxt = src.root / "nextto-set" / "images"
    for sub in ("train", "valid", "test"):
        (nxt / sub).mkdir(parents=True)
    for i in range(n_plain):
        sub = ("train", "valid", "test")[i % 3]
        name = ["photo (2)", "café déjà vu", "maxresdefault (1)"][i % 3] + f" {i}"
        im, faces = plain(next(seed))
        im.save(nxt / sub / f"{name}.jpg")
        (nxt / sub / f"{name}.txt").write_text(yolo_line(1, faces[0][1], size) + yolo_line(0, faces[1][1], size))
        src.faces[f"nextto/images/{sub}/{name}.jpg"] = faces
    quirks = {}
    im, faces = plain(next(seed))
    im.save(nxt / "train" / "webp_named.jpg", format="WEBP", lossless=True)
    quirks["webp_named"] = faces
    im, faces = plain(next(seed))
    rgba = im.convert("RGBA")
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    rgba.save(nxt / "train" / "alpha.png")
    quirks["alpha"] = faces
    im, faces = plain(next(seed))
    im.convert("P", palette=Image.Palette.ADAPTIVE).save(nxt / "train" / "palette.png")
    quirks["palette"] = faces
    for stem, faces in quirks.items():
        (nxt / "train" / f"{stem}.txt").write_text(yolo_line(1, faces[0][1], size) + yolo_line(0, faces[1][1], size))
        src.faces[f"nextto/images/train/{next(nxt.glob(f'train/{stem}.*')).name}"] = faces
    # An EXIF-rotated photo (orientation 6: stored sideways, shown upright); labels are for the upright view.
    upright, faces = plain(next(seed))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # exif_transpose applies ROTATE_270 for tag 6
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(nxt / "train" / "exif6.jpg", exif=exif, quality=95)
    (nxt / "train" / "exif6.txt").write_text(yolo_line(1, faces[0][1], size) + yolo_line(0, faces[1][1], size))
    src.faces["nextto/images/train/exif6.jpg"] = faces
    # Bad inputs.
    (nxt / "train" / "notanimage.jpg").write_text("this is text, not a JPEG")
    (nxt / "train" / "notanimage.txt").write_text(yolo_line(1, (1, 1, 20, 20), size))
    buf = io.BytesIO()
    background(next(seed), size).save(buf, format="JPEG")
    (nxt / "train" / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (nxt / "train" / "truncated.txt").write_text(yolo_line(1, (1, 1, 20, 20), size))
    background(next(seed), size).save(nxt / "train" / "badline.jpg")
    (nxt / "train" / "badline.txt").write_text("1 0.5 0.5 0.2\n")
    background(next(seed), size).save(nxt / "train" / "badclass.jpg")
    (nxt / "train" / "badclass.txt").write_text("7 0.5 0.5 0.2 0.2\n")

    # --- YOLO with images/ and labels/ trees, sergiovirahonda-like ---
    spl = src.root / "split-set"
    for sub in ("train", "val"):
        (spl / "images" / sub).mkdir(parents=True)
        (spl / "labels" / sub).mkdir(parents=True)
    (spl / "dataset.yaml").write_text("train: ../FaceMaskDataset/images/train/\nnc: 2\n")
    for i in range(n_plain):
        sub = "train" if i % 4 else "val"
        im, faces = plain(next(seed))
        im.save(spl / "images" / sub / f"{i}.jpg", quality=85)
        (spl / "labels" / sub / f"{i}.txt").write_text(
            yolo_line(0, faces[0][1], size) + yolo_line(1, faces[1][1], size)
        )
        src.faces[f"split/images/{sub}/{i}.jpg"] = faces
    background(next(seed), size).save(spl / "images" / "train" / "nolabel.jpg")
    background(next(seed), size).save(spl / "images" / "train" / "emptylabel.jpg")
    (spl / "labels" / "train" / "emptylabel.txt").write_text("")
    # A resized, re-encoded copy of a VOC photo (a cross-source duplicate), at a larger size so it is kept.
    copy = Image.open(voc / "images" / "maks0.jpg").resize((320, 240), Image.Resampling.BICUBIC)
    copy.save(spl / "images" / "train" / "dup_of_maks0.jpg", quality=80)
    (spl / "labels" / "train" / "dup_of_maks0.txt").write_text(
        yolo_line(0, (10, 20, 50, 70), size) + yolo_line(1, (90, 30, 140, 90), size)
    )
    # A near-duplicate of an incorrect-mask photo: it must go with it.
    Image.open(voc / "images" / "incorrect.jpg").save(spl / "images" / "train" / "dup_of_incorrect.jpg", quality=70)
    (spl / "labels" / "train" / "dup_of_incorrect.txt").write_text(yolo_line(0, (30, 30, 70, 80), size))

    src.expected_drops = {
        "voc": {"incorrect mask": 1, "malformed label": 1, "unknown class": 1, "invalid box": 1, "duplicate": 1},
        "nextto": {"unreadable image": 2, "malformed label": 1, "unknown class": 1},
        "split": {"missing label": 1, "empty label": 1, "incorrect mask": 1},
    }
    return src


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    return build_sources(tmp_path / "in")


TINY_TRAIN = {"cfg": "yolov5n.yaml", "imgsz": 64, "batch": 8, "workers": 0, "device": "cpu", "wandb": "offline"}


T = TypeVar("T")


def made_once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """`make(folder)`, once per test run: the suite runs on several pytest-xdist workers, and the first
    that needs it makes it while the others wait, then take what it made (pickled beside it)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make(tmp_path_factory.mktemp(name))
    folder = tmp_path_factory.getbasetemp().parent / name  # the run's folder, shared by its workers
    made = folder / "made.pickle"
    with FileLock(f"{folder}.lock"):
        if not made.exists():
            folder.mkdir()
            made.write_bytes(pickle.dumps(make(folder)))
    return pickle.loads(made.read_bytes())


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A merged dataset of ~40 small images (no rotated copies, to keep training quick)."""
    import prepare_data

    def make(root: Path) -> Path:
        src = build_sources(root / "in")
        prepare_data.run(
            sources=src.root,
            config=src.config,
            out=root / "ds",
            data=root / "ds.yaml",
            rotate=False,
            workers=1,
            progress=False,
        )
        return root / "ds.yaml"

    return made_once(tmp_path_factory, "tiny", make)


@dataclass
class TinyRun:
    """The one training of the default test run, and what it looked like when it was interrupted."""

    dir: Path  # the finished run: weights/best.pt and last.pt, results.csv, two W&B sessions of one run
    epochs_when_interrupted: list[int]  # results.csv rows written before the interruption
    run_id_when_interrupted: str  # wandb_run_id.txt then
    resumed_into: Path  # what train.run(resume=...) returned


def results_epochs(results_csv: Path) -> list[int]:
    with results_csv.open() as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


@pytest.fixture(scope="session")
def tiny_run(tiny_data: Path, tmp_path_factory) -> TinyRun:
    """The only model the default test run trains (`-m slow` adds the tests that must train their own):
    YOLOv5n from yaml, 2 epochs at 64 px, W&B offline. It is stopped as the second epoch starts, as
    Ctrl-C stops a user's run, and resumed from its last.pt, so the one training also covers --resume.
    Being resumed, its checkpoints' train_args say model: <its last.pt> (ultralytics records the resumed
    file), not the yolov5n.yaml it started from."""
    import train

    def interrupt_after_first_epoch(trainer) -> None:
        if trainer.epoch == 1:
            raise KeyboardInterrupt

    def make(project: Path) -> TinyRun:
        with pytest.raises(KeyboardInterrupt):
            train.run(
                data=str(tiny_data),
                epochs=2,
                project=str(project),
                name="t",
                callbacks={"on_train_epoch_start": interrupt_after_first_epoch},
                **TINY_TRAIN,
            )
        run_dir = project / "t"
        epochs, run_id = results_epochs(run_dir / "results.csv"), (run_dir / "wandb_run_id.txt").read_text()
        resumed = train.run(resume=str(run_dir / "weights" / "last.pt"), wandb="offline")
        return TinyRun(run_dir, epochs, run_id, resumed)

    return made_once(tmp_path_factory, "runs", make)


def mid_run(run: Path, folder: Path) -> Path:
    """folder/last.pt: the shared run's last.pt as it is between epochs, of a run saved in folder/run: the
    EMA model and AdamW's state after one step (a finished run's has its model under "model", and no
    optimizer)."""
    import torch

    state = torch.load(run / "weights" / "last.pt", map_location="cpu", weights_only=False)
    state["ema"], state["model"] = state["ema"] or state["model"], None
    state["epoch"] = 0  # the first of its epochs done (a finished run's say -1)
    state["train_args"] = {**state["train_args"], "save_dir": str(folder / "run")}
    params = [p.float().requires_grad_() for p in state["ema"].parameters()]
    optimizer = torch.optim.AdamW(params)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    torch.save({**state, "optimizer": optimizer.state_dict()}, folder / "last.pt")
    return folder / "last.pt"


@pytest.fixture(scope="session")
def trained_run(tiny_run: TinyRun) -> Path:
    """The folder of the shared tiny model (weights/best.pt); tests copy what they change."""
    return tiny_run.dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The app of app.py, served on a free localhost port for the whole session."""
    import app

    port = free_port()
    app.demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, max_file_size=app.MAX_UPLOAD
    )
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()
