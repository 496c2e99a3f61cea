"""The Detector with tiles (--tile): the user's IoU decides which overlapping faces are kept, as it does in a
plain pass. The model's passes are stood in for by known boxes, so what is asserted is what sahi's merge and
the Detector make of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sahi.models.ultralytics import UltralyticsDetectionModel

from facemask.inference.detector import Detector, DetectorSettings, PredictOptions

ROOT = Path(__file__).resolve().parents[2]
# x1, y1, x2, y2, confidence, class: two pairs of No Mask faces, apart from each other.
NEAR = [[10, 10, 110, 110, 0.9, 1], [30, 10, 130, 110, 0.8, 1]]  # IoU 0.67, IOS 0.8: one face to NMS at 0.45
APART = [[150, 150, 250, 250, 0.7, 1], [210, 150, 310, 250, 0.6, 1]]  # IoU 0.25, IOS 0.4: two at 0.45


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(ROOT / "weights" / "face_masks.pt")


@pytest.fixture
def passes(monkeypatch) -> list[float]:
    """Every pass sahi runs (tiles and the whole image) finds the boxes of NEAR and APART; returns the IoU
    each pass's own NMS was given."""
    ious: list[float] = []

    def predict(self, images: list[np.ndarray]) -> None:
        ious.append(self.model.overrides.get("iou"))
        self._original_predictions = [torch.tensor(NEAR + APART, dtype=torch.float32) for _ in images]
        self._original_shapes = [image.shape for image in images]

    monkeypatch.setattr(UltralyticsDetectionModel, "perform_batch_inference", predict)
    return ious


def faces(detector: Detector, iou: float) -> list[list[float]]:
    image = np.zeros((320, 320, 3), np.uint8)  # within one tile of the model's size: one pass
    found = detector(image, PredictOptions(tile=True, iou=iou)).detections
    return found.xyxy.round().tolist()


def test_a_higher_iou_keeps_more_overlapping_faces_with_tiles(detector, passes) -> None:
    kept = {iou: faces(detector, iou) for iou in (0.2, 0.45, 0.9)}
    assert passes == [0.2, 0.45, 0.9]  # each pass's NMS ran at the user's IoU
    assert kept[0.45] == [[10, 10, 130, 110], [150, 150, 250, 250], [210, 150, 310, 250]]  # NEAR joined
    assert kept[0.9] == [[10, 10, 110, 110], [30, 10, 130, 110], [150, 150, 250, 250], [210, 150, 310, 250]]
    assert kept[0.2] == [[10, 10, 130, 110], [150, 150, 250, 250]]  # the weaker of APART suppressed


def test_pieces_of_a_face_cut_by_a_tile_are_joined_whatever_the_iou(detector, monkeypatch) -> None:
    """A box lying inside a better one of its class (a face cut by a tile's edge) is part of it, even when
    a high IoU keeps faces that merely overlap."""

    def predict(self, images: list[np.ndarray]) -> None:
        boxes = [[50, 50, 150, 150, 0.9, 0], [50, 50, 90, 150, 0.5, 0]]  # the piece: IoU 0.4, inside the face
        self._original_predictions = [torch.tensor(boxes, dtype=torch.float32) for _ in images]
        self._original_shapes = [image.shape for image in images]

    monkeypatch.setattr(UltralyticsDetectionModel, "perform_batch_inference", predict)
    assert faces(detector, 0.9) == [[50, 50, 150, 150]]


def test_one_face_with_a_box_of_each_class_is_one_face(detector, monkeypatch) -> None:
    """A Mask box and a No Mask box on the same face are one face by default (agnostic NMS), the likelier
    kept; --no-agnostic-nms keeps both, as YOLOv5 does by default. With tiles here; a plain pass hands the
    same setting to ultralytics."""
    both = [[10, 10, 110, 110, 0.9, 1], [14, 10, 112, 110, 0.8, 0]]  # IoU about 0.93, different classes

    def predict(self, images: list[np.ndarray]) -> None:
        self._original_predictions = [torch.tensor(both, dtype=torch.float32) for _ in images]
        self._original_shapes = [image.shape for image in images]

    monkeypatch.setattr(UltralyticsDetectionModel, "perform_batch_inference", predict)
    image = np.zeros((320, 320, 3), np.uint8)
    one = detector(image, PredictOptions(tile=True)).detections
    two = detector(image, PredictOptions(tile=True, agnostic_nms=False)).detections
    assert (one.class_id.tolist(), sorted(two.class_id.tolist())) == ([1], [0, 1])


def test_a_plain_pass_hands_the_agnostic_setting_to_ultralytics(detector, monkeypatch) -> None:
    given: list[bool] = []
    original = detector.model.predict

    def predict(*args, **kwargs):
        given.append(kwargs["agnostic_nms"])
        return original(*args, **kwargs)

    monkeypatch.setattr(detector.model, "predict", predict)
    image = np.zeros((64, 64, 3), np.uint8)
    detector(image, PredictOptions())
    detector(image, PredictOptions(agnostic_nms=False))
    assert given == [True, False]


def test_a_photo_with_more_pixels_than_the_model_runs_at_the_large_size(detector) -> None:
    """weights/face_masks.pt was trained at 512: a 1280 x 720 frame runs at 768 (its crowds' small faces),
    a 415 px portrait at 512, as ultralytics' predictor then letterboxes them."""
    assert (detector.input_size.imgsz, detector.input_size.large) == (512, 768)
    used = []
    for shape in ((720, 1280, 3), (415, 415, 3), (640, 480, 3)):
        detector(np.zeros(shape, np.uint8))
        used.append(max(detector.model.predictor.imgsz))
    assert used == [768, 512, 512]
    one_size = Detector(ROOT / "weights" / "face_masks.pt", DetectorSettings(large_imgsz=None))
    one_size(np.zeros((720, 1280, 3), np.uint8))
    assert max(one_size.model.predictor.imgsz) == 512
