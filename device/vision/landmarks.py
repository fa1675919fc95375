"""Face mesh (468 points) and iris landmarks on rotated square crops, mapped back to frame pixels.

As in MediaPipe's face mesh graph: the face crop is centred on the detection box, its side is
1.5 times the box's longer side, and it is rotated so that the eye keypoints lie level; each eye
crop is centred between the eye corners, 2.3 times their distance wide, rotated level, and the
person's left eye (on the image's right) is mirrored because the iris model expects the other eye.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from device.errors import ModelError
from device.vision.runtime import TFLiteModel
from device.vision.types import Detection, FaceMesh, Image

Floats = npt.NDArray[np.float32]
MESH_POINTS = 468
FACE_ROI_SCALE = 1.5
EYE_ROI_SCALE = 2.3
# Mesh indices of the eye corners: the person's right eye (image left) then left eye.
EYE_CORNERS = ((33, 133), (362, 263))
IRIS_POINTS = 5
CONTOUR_VALUES = 71 * 3
# The iris model's first 16 eye-contour points (lower lid from the corner on the crop's left to
# the other corner, then upper lid in the same direction) as mesh indices, per eye; the person's
# left eye is seen mirrored, so its list starts at its outer corner, like the right eye's.
EYE_CONTOURS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated square in frame pixels: centre, side and the angle (radians, image y down) of
    the crop's x axis in the frame."""

    cx: float
    cy: float
    side: float
    angle: float

    def crop_to_frame(self, size: int) -> Floats:
        """2x3 affine mapping crop pixels (size x size) to frame pixels."""
        k = self.side / size
        cos, sin = math.cos(self.angle) * k, math.sin(self.angle) * k
        linear = np.array([[cos, -sin], [sin, cos]], dtype=np.float64)
        offset = np.array([self.cx, self.cy]) - linear @ np.array([size / 2.0, size / 2.0])
        return np.hstack([linear, offset[:, None]]).astype(np.float32)

    def crop(self, rgb: Image, size: int) -> Image:
        """The ROI resampled to size x size (bilinear, black outside the frame)."""
        matrix = self.crop_to_frame(size)
        cropped = cv2.warpAffine(
            rgb,
            matrix,
            (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        return np.asarray(cropped, dtype=np.uint8)

    def to_frame(self, points: Floats, size: int) -> Floats:
        """Crop points (N x 2 or N x 3; z is scaled like x and y) to frame pixels."""
        matrix = self.crop_to_frame(size)
        out = points.astype(np.float32).copy()
        out[:, :2] = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        if points.shape[1] > 2:
            out[:, 2:] = points[:, 2:] * (self.side / size)
        return out


def face_roi(detection: Detection, scale: float = FACE_ROI_SCALE) -> Roi:
    """The rotated square face crop for the mesh model, from a detection."""
    right_eye, left_eye = detection.keypoints[0], detection.keypoints[1]
    angle = math.atan2(float(left_eye[1] - right_eye[1]), float(left_eye[0] - right_eye[0]))
    box = detection.box
    cx, cy = box.center
    return Roi(cx, cy, max(box.width, box.height) * scale, angle)


def eye_roi(first: Floats, second: Floats, scale: float = EYE_ROI_SCALE) -> Roi:
    """The rotated square eye crop between two eye corners (image-left corner first)."""
    dx, dy = float(second[0] - first[0]), float(second[1] - first[1])
    centre = (first[:2] + second[:2]) / 2.0
    return Roi(float(centre[0]), float(centre[1]), math.hypot(dx, dy) * scale, math.atan2(dy, dx))


def _input_size(model: TFLiteModel) -> int:
    shape = model.inputs[0].shape
    if len(model.inputs) != 1 or len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
        raise ModelError(f"{model.label}: expected one square NHWC RGB input, got {shape}")
    return shape[1]


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, value))))


class FaceLandmarker:
    """face_landmark.tflite: 468 points (x, y, z) and a face-presence probability."""

    def __init__(self, model: TFLiteModel) -> None:
        self._model = model
        self.size = _input_size(model)

    def run(self, rgb: Image, detection: Detection) -> FaceMesh:
        roi = face_roi(detection)
        tensor = roi.crop(rgb, self.size).astype(np.float32) / 255.0
        outputs = self._model.invoke(tensor)
        mesh = next((o for o in outputs if o.size == MESH_POINTS * 3), None)
        flag = next((o for o in outputs if o.size == 1), None)
        if mesh is None or flag is None:
            raise ModelError(f"{self._model.label}: unexpected outputs for a face mesh model")
        points = roi.to_frame(mesh.reshape(MESH_POINTS, 3).astype(np.float32), self.size)
        return FaceMesh(points=points, presence=_sigmoid(float(flag.reshape(-1)[0])))


class IrisLandmarker:
    """iris_landmark.tflite on both eyes: iris 2x5x2 (person's right, left; centre first) and
    the 16-point eye contours 2x16x2 that sharpen the mesh's lids (see refine_eyes)."""

    def __init__(self, model: TFLiteModel) -> None:
        self._model = model
        self.size = _input_size(model)

    def run(self, rgb: Image, mesh_points: Floats) -> Floats:
        return self.run_with_contours(rgb, mesh_points)[0]

    def run_with_contours(self, rgb: Image, mesh_points: Floats) -> tuple[Floats, Floats]:
        eyes = [
            self._one_eye(rgb, mesh_points[a], mesh_points[b], mirror=index == 1)
            for index, (a, b) in enumerate(EYE_CORNERS)
        ]
        iris = np.stack([e[0] for e in eyes]).astype(np.float32)
        contours = np.stack([e[1] for e in eyes]).astype(np.float32)
        return iris, contours

    def _one_eye(
        self, rgb: Image, first: Floats, second: Floats, mirror: bool
    ) -> tuple[Floats, Floats]:
        roi = eye_roi(first, second)
        crop = roi.crop(rgb, self.size)
        if mirror:
            crop = np.ascontiguousarray(crop[:, ::-1])
        outputs = self._model.invoke(crop.astype(np.float32) / 255.0)
        iris = next((o for o in outputs if o.size == IRIS_POINTS * 3), None)
        contour = next((o for o in outputs if o.size == CONTOUR_VALUES), None)
        if iris is None or contour is None:
            raise ModelError(f"{self._model.label}: expected iris and eye-contour outputs")
        points = np.concatenate(
            [iris.reshape(-1, 3)[:, :2], contour.reshape(-1, 3)[: len(EYE_CONTOURS[0]), :2]]
        ).astype(np.float32)
        if mirror:
            points[:, 0] = self.size - points[:, 0]
        mapped = roi.to_frame(points, self.size)
        return mapped[:IRIS_POINTS], mapped[IRIS_POINTS:]


def refine_eyes(mesh_points: Floats, contours: Floats) -> Floats:
    """A copy of the mesh with each eye's 16 contour points (x, y) taken from the iris model,
    as MediaPipe's refined face mesh does: the lids then follow blinks closely."""
    refined = mesh_points.copy()
    for indices, contour in zip(EYE_CONTOURS, contours, strict=True):
        refined[list(indices), :2] = contour
    return refined
