"""A second opinion on `missing` faces: a face finder that owes nothing to the audited model.

A model trained on labels that leave faces unboxed learns to ignore those faces, so its own audit cannot
find them. MTCNN (facenet-pytorch, whose wheel ships the weights; trained on faces, not on these labels)
finds unmasked faces well and masked ones less so. A face it finds at MTCNN_CONF or more that no label box
and no `missing` candidate of the model overlaps (IoU < MISSING_IOU) becomes a `missing` candidate of
source "mtcnn", with the class of the model's likeliest detection there (down to UNFOUND_CONF), or No Mask
where the model sees nothing: those are the faces MTCNN finds best.

On the deleted-box benchmark (benchmarks/audit_recall.py --min-faces 5 --second-opinion mtcnn: the crowd
split's 49 test photos with 5 faces or more, a third of their boxes deleted) it raised the deleted faces
found from 68% to 77% (0.76 to 0.86 candidates per deleted box) for weights/face_masks.pt, which trained
on most of those photos, and from 39% to 60% (0.43 to 0.69) for a model that never saw them.

facenet-pytorch is pinned to 2.5.3: 2.6.0 pins torch<2.3, numpy<2 and Pillow<10.3; 2.5.3 asks only for
numpy, requests, torchvision and pillow, and its MTCNN code is the same.
"""

from __future__ import annotations

import numpy as np
import supervision as sv

from facemask.audit.candidates import MISSING_IOU, UNFOUND_CONF, AuditError, iou
from facemask.classes import NO_MASK

SECOND_OPINIONS = ("mtcnn",)
MTCNN_CONF = 0.98  # chosen on the crowd split's val photos: 0.95 adds candidates faster than faces
MTCNN_MIN_FACE = 10  # pixels; the default 20 loses crowd faces (some recovered faces are 8-16 px)


class MtcnnFaces:
    """MTCNN as the audit's second opinion (candidates.SecondOpinion) for a model of classes `names`."""

    name = "mtcnn"

    def __init__(self, names: dict[int, str], device: str | None = None):
        from facenet_pytorch import MTCNN  # here: importing it costs audits that do not ask for it
        from ultralytics.utils.torch_utils import select_device

        self.fallback = fallback_class(names)
        device = select_device(device or "", verbose=False)
        self.mtcnn = MTCNN(keep_all=True, min_face_size=MTCNN_MIN_FACE, device=device)

    def missing(
        self, image_bgr: np.ndarray, labels: sv.Detections, missing: sv.Detections, detections: sv.Detections
    ) -> sv.Detections:
        """Faces of the image (BGR) that the labels and the model's missing candidates leave out."""
        return second_missing(labels, missing, detections, self.faces(image_bgr), self.fallback)

    def faces(self, image_bgr: np.ndarray) -> sv.Detections:
        """Every face MTCNN finds, with its probability (class_id -1: it knows no mask classes), its box
        clipped to the image as the model's are (a box over the edge would make a bad label line)."""
        boxes, probs = self.mtcnn.detect(np.ascontiguousarray(image_bgr[..., ::-1]))
        if boxes is None:  # no face: probs is [None]
            return sv.Detections.empty()
        height, width = image_bgr.shape[:2]
        boxes = sv.clip_boxes(np.asarray(boxes, float).reshape(-1, 4), (width, height))
        return sv.Detections(xyxy=boxes, confidence=np.asarray(probs, float), class_id=np.full(len(boxes), -1))


def face_finder(name: str | None, names: dict[int, str], device: str | None = None) -> MtcnnFaces | None:
    """The face finder `--second-opinion` names (None: none), for a model of classes `names`."""
    if name not in (None, *SECOND_OPINIONS):
        raise AuditError(f"--second-opinion must be one of {', '.join(SECOND_OPINIONS)}, not {name!r}")
    return MtcnnFaces(names, device) if name == "mtcnn" else None


def fallback_class(names: dict[int, str]) -> int:
    """The class of a face the model does not see at all: No Mask where the model has it, else its first."""
    return next((i for i, n in names.items() if n == NO_MASK), min(names, default=0))


def second_missing(
    labels: sv.Detections, missing: sv.Detections, detections: sv.Detections, faces: sv.Detections, fallback: int
) -> sv.Detections:
    """MTCNN's faces (at MTCNN_CONF) that no label box and no missing candidate of the model overlaps,
    each with the class of the model detection (at UNFOUND_CONF or more) overlapping it most, if any
    overlaps it at MISSING_IOU, else `fallback`."""
    faces = faces[faces.confidence >= MTCNN_CONF]
    for covered in (labels.xyxy, missing.xyxy):
        if len(faces) and len(covered):
            faces = faces[~(iou(covered, faces.xyxy) >= MISSING_IOU).any(axis=0)]
    low = detections[detections.confidence >= UNFOUND_CONF]
    overlap = iou(faces.xyxy, low.xyxy) if len(faces) and len(low) else np.zeros((len(faces), 0))
    best = overlap.argmax(axis=1) if overlap.size else np.zeros(len(faces), int)
    seen = overlap.max(axis=1, initial=0) >= MISSING_IOU
    faces.class_id = np.where(seen, low.class_id[best] if len(low) else fallback, fallback).astype(int)
    return faces
