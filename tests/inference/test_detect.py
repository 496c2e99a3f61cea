"""detect.py as users run it: every source kind that works offline, the saved files and their formats,
face blurring, and bad input. The tiny model of test_train supplies real inference; output formats
are checked with a stand-in detector whose boxes are known."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv
from PIL import Image

import detect
from facemask.events.options import EventOptions
from facemask.inference import detector as detector_module
from facemask.inference.detect_options import DetectOptions
from facemask.inference.detector import Detector, DetectorSettings, Prediction, PredictOptions
from tests.conftest import background, draw_faces
from tests.scripts import run_script

ROOT = Path(__file__).resolve().parents[2]
FACES = np.array([[20.0, 30.0, 60.0, 80.0], [100.0, 20.0, 140.0, 70.0]])


@pytest.fixture
def known_boxes(monkeypatch):
    """Replace inference with two fixed faces (one Mask, one No Mask) on every image."""

    def predict(self, image, options=None):
        return Prediction(
            sv.Detections(xyxy=FACES.copy(), class_id=np.array([0, 1]), confidence=np.array([0.9, 0.8])),
            {"inference": 1.0},
        )

    monkeypatch.setattr(detector_module.Detector, "__call__", predict)


@pytest.fixture
def weights(trained_run: Path) -> Path:
    return trained_run / "weights" / "best.pt"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        draw_faces(background(i), [((0, 200, 0), (20, 30, 60, 80))]).save(folder / f"p{i}.jpg")
    return folder


def run(weights, source, tmp_path, **kw):
    return detect.run(weights=weights, source=str(source), project=tmp_path / "runs", imgsz=64, **kw)


def test_folder_glob_list_and_single_image(weights, photos, tmp_path) -> None:
    assert run(weights, photos, tmp_path).images == 3
    assert run(weights, photos / "p*.jpg", tmp_path).images == 3
    (tmp_path / "list.txt").write_text("photos/p0.jpg\nphotos/p2.jpg\n")
    assert run(weights, tmp_path / "list.txt", tmp_path).images == 2
    assert run(weights, photos / "p1.jpg", tmp_path).images == 1
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["exp", "exp2", "exp3", "exp4"]  # a new folder per run, nothing overwritten
    assert sorted(p.name for p in (tmp_path / "runs" / "exp").glob("*.jpg")) == ["p0.jpg", "p1.jpg", "p2.jpg"]


def test_track_on_photos_and_a_zone_without_track_are_said(weights, photos, tmp_path, capsys) -> None:
    summary = run(weights, photos, tmp_path, track=True)
    assert summary.images == 3 and "--track follows people through videos and streams" in capsys.readouterr().out
    run(weights, photos, tmp_path, zone="0.5,0,0.5,1")
    assert "--zone counts the people who cross it, so it needs --track" in capsys.readouterr().out


def test_video_is_annotated_frame_by_frame(weights, tmp_path) -> None:
    video = tmp_path / "clip.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for i in range(12):
        out.write(np.asarray(background(i % 3))[:, :, ::-1].copy())
    out.release()
    summary = run(weights, video, tmp_path, vid_stride=2, save_txt=True)
    assert summary.frames == 6 and summary.images == 0
    saved = cv2.VideoCapture(str(tmp_path / "runs" / "exp" / "clip.mp4"))
    assert int(saved.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    labels = sorted(p.name for p in (tmp_path / "runs" / "exp" / "labels").iterdir())
    assert labels == [f"clip_{i}.txt" for i in (0, 10, 2, 4, 6, 8)]


def test_txt_json_and_crops_formats(known_boxes, weights, photos, tmp_path) -> None:
    run(weights, photos, tmp_path, save_txt=True, save_conf=True, save_json=True, save_crop=True)
    out = tmp_path / "runs" / "exp"
    rows = [line.split() for line in (out / "labels" / "p0.txt").read_text().splitlines()]
    assert rows == [
        ["0", "0.250000", "0.458333", "0.250000", "0.416667", "0.9000"],
        ["1", "0.750000", "0.375000", "0.250000", "0.416667", "0.8000"],
    ]
    records = json.loads((out / "predictions.json").read_text())
    assert [r["source"] for r in records] == [str(photos / f"p{i}.jpg") for i in range(3)]
    assert records[0]["counts"] == {"Mask": 1, "No Mask": 1}
    assert records[0]["detections"][0] == {
        "class_id": 0,
        "class": "Mask",
        "confidence": 0.9,
        "xyxy": [20.0, 30.0, 60.0, 80.0],
    }
    crops = sorted(p.relative_to(out / "crops").as_posix() for p in (out / "crops").rglob("*.jpg"))
    assert crops[:2] == ["Mask/p0_0.jpg", "Mask/p1_0.jpg"] and len(crops) == 6
    assert Image.open(out / "crops" / "Mask" / "p0_0.jpg").size == (40, 50)
    assert json.loads((out / "summary.json").read_text())["faces"] == {"Mask": 3, "No Mask": 3}


def test_txt_file_written_even_when_nothing_is_found(weights, photos, tmp_path) -> None:
    run(weights, photos, tmp_path, save_txt=True, conf_thres=0.99)
    labels = tmp_path / "runs" / "exp" / "labels"
    assert sorted(p.name for p in labels.iterdir()) == ["p0.txt", "p1.txt", "p2.txt"]
    assert (labels / "p0.txt").read_text() == ""


def test_blur_faces_changes_faces_only(known_boxes, weights, tmp_path) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)  # texture, so blurring shows
    Image.fromarray(image).save(tmp_path / "t.png")
    run(weights, tmp_path / "t.png", tmp_path, blur_faces=True, hide_labels=True, line_thickness=1)
    out = np.asarray(Image.open(tmp_path / "runs" / "exp" / "t.png"))
    changed = np.abs(out.astype(int) - image).sum(axis=2) > 0
    inside = np.zeros_like(changed)
    for x1, y1, x2, y2 in FACES.astype(int):
        assert changed[y1 + 2 : y2 - 2, x1 + 2 : x2 - 2].mean() > 0.9  # the face is blurred
        inside[y1 - 2 : y2 + 2, x1 - 2 : x2 + 2] = True  # the face and its drawn outline
    assert not changed[~inside].any()  # nothing else is touched


def test_bad_files_in_a_folder_are_skipped_and_counted(weights, photos, tmp_path) -> None:
    (photos / "notes.txt").write_text("not an image")
    (photos / "fake.jpg").write_text("not a JPEG either")
    data = (photos / "p0.jpg").read_bytes()
    (photos / "cut.jpg").write_bytes(data[: len(data) // 3])
    (photos / "empty.mp4").write_bytes(b"")
    summary = run(weights, photos, tmp_path)
    assert summary.images == 3
    assert sum(summary.skipped.values()) == 4
    assert summary.skipped["not an image or video"] == 2
    assert summary.failure is None  # the rest was read: the run succeeds, and says what it skipped


def test_a_folder_with_nothing_readable_fails_once_it_is_saved(weights, tmp_path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "fake.jpg").write_text("not a JPEG")
    (folder / "empty.mp4").write_bytes(b"")
    args = ["--weights", weights, "--source", folder, "--project", tmp_path / "runs"]
    result = run_script(ROOT / "detect.py", args, tmp_path, timeout=120)
    assert (
        result.code == 1
        and result.stderr.strip().splitlines()[-1] == "detect.py: failed: nothing could be read (2 skipped)"
    )
    summary = json.loads((tmp_path / "runs" / "exp" / "summary.json").read_text())
    assert summary["skipped"] == {"not an image or video": 1, "unreadable video": 1}


def test_huge_image_is_read_reduced_and_detected(known_boxes, weights, tmp_path) -> None:
    Image.new("L", (20000, 20000), 128).save(tmp_path / "huge.jpg", quality=50)
    summary = run(weights, tmp_path / "huge.jpg", tmp_path, save_json=True)
    assert summary.images == 1
    record = json.loads((tmp_path / "runs" / "exp" / "predictions.json").read_text())[0]
    assert (record["width"], record["height"]) == (20000, 20000)
    assert record["detections"][0]["xyxy"][2] == pytest.approx(60 / (4096 / 20000), rel=0.01)  # original pixels


@pytest.mark.parametrize(
    ("source", "code", "said"),
    [
        ("missing.jpg", 2, "error"),  # a user's mistake, as argparse says it
        ("nothing/*.jpg", 2, "error"),
        ("fake.jpg", 2, "error"),  # a lone file that is not an image: refused before the model loads
        ("rtsp://127.0.0.1:9/none", 1, "failed"),  # a camera down: started again later, it may answer
    ],
)
def test_missing_unreadable_or_unreachable_sources_exit_with_one_line(weights, tmp_path, source, code, said) -> None:
    (tmp_path / "fake.jpg").write_text("not a JPEG")
    result = run_script(
        ROOT / "detect.py",
        ["--weights", weights, "--source", source, "--project", tmp_path / "runs"],
        tmp_path,
        timeout=120,
    )
    assert result.code == code
    assert result.stderr.strip().count("\n") == 0 and f"detect.py: {said}:" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_file_name_with_brackets_is_a_file_not_a_pattern(weights, photos, tmp_path) -> None:
    (photos / "p0.jpg").rename(photos / "party [2021].jpg")
    assert run(weights, photos / "party [2021].jpg", tmp_path).images == 1


def test_tiles_find_small_faces_a_plain_pass_misses(tmp_path) -> None:
    """A crowd photo shrunk into a wide, empty frame: its faces become a few pixels at the model's size,
    but full-size again in the tile that holds them."""
    crowd = next((ROOT.parent / "shared" / "datasets").glob("aditya276*/images/test/phplpE73q.jpg"), None)
    if crowd is None:
        pytest.skip("../shared/datasets not present")
    photo = cv2.imread(str(crowd))
    wide = np.full((photo.shape[0] * 3, photo.shape[1] * 3, 3), 114, np.uint8)
    wide[photo.shape[0] : 2 * photo.shape[0], photo.shape[1] : 2 * photo.shape[1]] = photo
    cv2.imwrite(str(tmp_path / "wide.jpg"), wide)
    kw = {"weights": ROOT / "weights" / "face_masks.pt", "source": tmp_path / "wide.jpg", "nosave": True}
    plain = detect.run(**kw, project=tmp_path, name="plain")
    tiled = detect.run(**kw, tile=True, project=tmp_path, name="tiled")
    assert sum(tiled.faces.values()) >= 2 * max(1, sum(plain.faces.values()))


def test_options_given_with_a_call_apply_to_that_call_only() -> None:
    """The app shares one Detector among its visitors, calling it from several threads at once, each with
    its own thresholds: they must neither mix nor stay behind in the detector."""
    detector = Detector(ROOT / "weights" / "face_masks.pt")
    image = cv2.imread(str(ROOT / "examples" / "bus.jpg"))
    alone = {conf: len(detector(image, PredictOptions(conf=conf)).detections) for conf in (0.95, 0.05)}
    assert alone[0.95] < alone[0.05]  # the two thresholds give different answers on bus.jpg
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(
            pool.map(lambda conf: len(detector(image, PredictOptions(conf=conf)).detections), [0.95, 0.05] * 3)
        )
    assert found == [alone[0.95], alone[0.05]] * 3  # each call as if it were alone
    own = len(detector(image, PredictOptions(conf=0.25)).detections)
    assert len(detector(image).detections) == own and detector.settings == DetectorSettings()  # its own 0.25


def test_settings_give_their_per_call_options() -> None:
    settings = DetectorSettings(imgsz=320, conf=0.5, classes=[1], tile=True, device="cpu")
    assert settings.options() == PredictOptions(conf=0.5, classes=(1,), tile=True)
    assert DetectorSettings().options() == PredictOptions()  # one set of defaults


def test_the_command_line_and_run_share_one_set_of_defaults() -> None:
    """python detect.py and detect.run() given nothing do the same, with the app's thresholds."""
    given = vars(detect.parse_opt([]))
    events = {k: given.pop(k) for k in detect.EVENT_KEYWORDS}
    assert DetectOptions(**given) == DetectOptions()
    assert events == {k: getattr(EventOptions(), k) for k in detect.EVENT_KEYWORDS}
    assert DetectOptions().settings().options() == PredictOptions()
