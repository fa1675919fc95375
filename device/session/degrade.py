"""Synthetic degradations of a face image, for measuring and testing the quality gates.

Each function takes an RGB image and the face's observation on it (from the analyzer) and
returns a new image showing one problem: darkness, glare, backlight, blur, an off-centre or
rotated face, dark glasses, a mask or a hat painted on. They are pure image operations; nothing
here runs in a verification.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.align import five_points
from device.vision.types import FaceObservation, Image


def _clip(values: npt.NDArray[np.float32]) -> Image:
    return np.asarray(np.clip(values, 0, 255), dtype=np.uint8)


def darken(rgb: Image, face: FaceObservation) -> Image:
    return _clip(rgb.astype(np.float32) * 0.22)


def brighten(rgb: Image, face: FaceObservation) -> Image:
    return _clip(rgb.astype(np.float32) * 1.5 + 110.0)


def backlight(rgb: Image, face: FaceObservation) -> Image:
    """A dim face in front of a glaring window: face darkened, background near white."""
    box = face.detection.box
    cx, cy = box.center
    canvas = np.zeros(rgb.shape[:2], dtype=np.uint8)
    axes = (int(box.width * 0.75), int(box.height * 1.0))
    cv2.ellipse(canvas, (int(cx), int(cy)), axes, 0, 0, 360, (255,), -1)
    soft = cv2.GaussianBlur(canvas, (0, 0), max(box.width * 0.08, 1.0))
    mask = np.asarray(soft, dtype=np.float32)[..., None] / 255.0
    dim = rgb.astype(np.float32) * 0.5
    glare = np.full_like(dim, 250.0)
    return _clip(dim * mask + glare * (1.0 - mask))


def blur(rgb: Image, face: FaceObservation) -> Image:
    sigma = max(face.detection.box.width * 0.035, 1.0)
    return np.asarray(cv2.GaussianBlur(rgb, (0, 0), sigma), dtype=np.uint8)


def _warp(rgb: Image, matrix: npt.NDArray[np.float64]) -> Image:
    height, width = rgb.shape[:2]
    warped = cv2.warpAffine(
        rgb, matrix, (width, height), borderMode=cv2.BORDER_CONSTANT, borderValue=(96, 96, 96)
    )
    return np.asarray(warped, dtype=np.uint8)


def off_centre(rgb: Image, face: FaceObservation) -> Image:
    """The face moved towards the top-left corner, still wholly in the frame."""
    box = face.detection.box
    dx = -(box.x0 - 0.02 * rgb.shape[1])
    dy = -(box.y0 - 0.02 * rgb.shape[0])
    return _warp(rgb, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]))


def rotate(rgb: Image, face: FaceObservation, degrees: float = 30.0) -> Image:
    cx, cy = face.detection.box.center
    matrix = cv2.getRotationMatrix2D((cx, cy), degrees, 1.0)
    return _warp(rgb, np.asarray(matrix, dtype=np.float64))


def shrink(rgb: Image, face: FaceObservation, factor: float = 0.35) -> Image:
    """The whole scene scaled down around the frame centre: the face looks far away."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), 0.0, factor)
    return _warp(rgb, np.asarray(matrix, dtype=np.float64))


def sunglasses(rgb: Image, face: FaceObservation) -> Image:
    """Two near-black lenses over the eyes joined by a bridge."""
    points = five_points(face)
    out = rgb.copy()
    right, left = points[0], points[1]
    distance = float(np.linalg.norm(left - right))
    angle = float(np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0])))
    axes = (int(distance * 0.42), int(distance * 0.32))
    for eye in (right, left):
        cv2.ellipse(out, (int(eye[0]), int(eye[1])), axes, angle, 0, 360, (18, 18, 22), -1)
    width = max(int(distance * 0.08), 1)
    cv2.line(out, tuple(int(v) for v in right), tuple(int(v) for v in left), (18, 18, 22), width)
    return out


def face_mask(rgb: Image, face: FaceObservation) -> Image:
    """A light-blue surgical mask from just below the nose tip down over the chin."""
    points = five_points(face)
    out = rgb.copy()
    box = face.detection.box
    nose, mouth = points[2], (points[3] + points[4]) / 2.0
    top = nose[1] + 0.25 * (mouth[1] - nose[1])
    centre = (int(mouth[0]), int((top + box.y1 + 0.1 * box.height) / 2.0))
    axes = (int(box.width * 0.48), int((box.y1 + 0.1 * box.height - top) / 2.0))
    cv2.ellipse(out, centre, axes, 0, 0, 360, (160, 196, 222), -1)
    return out


def hat(rgb: Image, face: FaceObservation) -> Image:
    """A dark woollen hat pulled down to just above the eyebrows."""
    points = five_points(face)
    out = rgb.copy()
    box = face.detection.box
    eye_y = float(min(points[0][1], points[1][1]))
    bottom = int(eye_y - 0.45 * float(np.linalg.norm(points[1] - points[0])))
    x0, x1 = int(box.x0 - 0.2 * box.width), int(box.x1 + 0.2 * box.width)
    cv2.rectangle(out, (x0, 0), (x1, bottom), (40, 36, 70), -1)
    return out


DEGRADATIONS: dict[str, tuple[Callable[[Image, FaceObservation], Image], str]] = {
    "dark": (darken, "too_dark"),
    "bright": (brighten, "too_bright"),
    "backlit": (backlight, "backlit"),
    "blurred": (blur, "blurred"),
    "off_centre": (off_centre, "off_centre"),
    "rotated": (rotate, "head_tilted"),
    "small": (shrink, "too_far"),
    "sunglasses": (sunglasses, "sunglasses"),
    "mask": (face_mask, "mask"),
    "hat": (hat, "hat"),
}
