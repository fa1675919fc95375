"""Per-frame liveness measures read from one face observation (pure functions).

Everything here is absolute per frame; the challenge compares it with a per-person baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.geometry import eye_aspect_ratio, mouth_opening_ratio
from device.vision.types import Box, FaceObservation, Image, Points

# Mesh eye contours (person's right, left) used for the eye-appearance measure.
EYE_CONTOURS = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
)


@dataclass(frozen=True, slots=True)
class FaceMeasures:
    """`ear` mean eye aspect ratio; `eye_contrast` how much darker the iris (or the eye opening)
    is than the lid skin above it, in grey levels (drops towards 0 when the lids close);
    `mouth` inner-lip gap over mouth width; yaw/pitch in degrees (HeadPose signs)."""

    ear: float
    eye_contrast: float
    mouth: float
    yaw_deg: float
    pitch_deg: float


def measure(rgb: Image, face: FaceObservation) -> FaceMeasures | None:
    """The measures of one face, or None without a mesh and pose."""
    if face.mesh is None or face.pose is None:
        return None
    points = face.mesh.points
    right, left = eye_aspect_ratio(points)
    return FaceMeasures(
        ear=(right + left) / 2.0,
        eye_contrast=eye_contrast(rgb, points, face.mesh.iris),
        mouth=mouth_opening_ratio(points),
        yaw_deg=face.pose.yaw_deg,
        pitch_deg=face.pose.pitch_deg,
    )


def _grey(rgb: Image) -> npt.NDArray[np.float32]:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.float32)


def _mean_in_mask(grey: npt.NDArray[np.float32], mask: npt.NDArray[np.uint8]) -> float | None:
    values = grey[mask > 0]
    return float(values.mean()) if values.size else None


def eye_contrast(rgb: Image, points: Points, iris: Points | None) -> float:
    """Lid skin above each eye minus the darkest part of the eye (iris disc when the iris model
    ran, else the darker half of the eye opening), averaged over both eyes. Only the eyes'
    region of the frame is read (the same pixels as the whole frame would give)."""
    polys = [points[list(contour), :2] for contour in EYE_CONTOURS]
    lifts = [np.array([0.0, 1.6 * (float(np.ptp(p[:, 1])) + 2.0)], np.float32) for p in polys]
    lifted = [p - d for p, d in zip(polys, lifts, strict=True)]
    x0, y0, x1, y1 = _eye_region(rgb.shape, [*polys, *lifted], iris)
    if x1 <= x0 or y1 <= y0:
        return 0.0  # both eyes outside the frame
    offset = np.array([x0, y0], dtype=np.float32)
    grey = _grey(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    values = []
    for index, (poly, lift) in enumerate(zip(polys, lifts, strict=True)):
        skin = _mean_in_mask(grey, _poly_mask(grey.shape, poly - lift - offset))
        eye_iris = None if iris is None else iris[index] - offset
        eye = _eye_darkness(grey, poly - offset, eye_iris)
        if skin is not None and eye is not None:
            values.append(skin - eye)
    return float(np.mean(values)) if values else 0.0


def _eye_region(
    shape: tuple[int, ...], polys: list[Points], iris: Points | None
) -> tuple[int, int, int, int]:
    """Integer x0, y0, x1, y1 (within the frame) holding every polygon and iris disc."""
    xy = np.concatenate(polys)
    if iris is not None:
        reach = np.linalg.norm(iris[:, 1:] - iris[:, :1], axis=2).max(initial=0.0)
        xy = np.concatenate([xy, iris[:, 0] - reach, iris[:, 0] + reach])
    height, width = shape[:2]
    lo = np.floor(xy.min(axis=0)) - 2
    hi = np.ceil(xy.max(axis=0)) + 3
    x0, y0 = int(min(max(lo[0], 0), width)), int(min(max(lo[1], 0), height))
    return x0, y0, max(x0, int(min(hi[0], width))), max(y0, int(min(hi[1], height)))


def _poly_mask(shape: tuple[int, ...], poly: Points) -> npt.NDArray[np.uint8]:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(poly).astype(np.int32)), (255,))
    return mask


def _eye_darkness(grey: npt.NDArray[np.float32], poly: Points, iris: Points | None) -> float | None:
    if iris is not None:
        centre = iris[0]
        radius = float(np.mean(np.linalg.norm(iris[1:] - centre, axis=1)))
        mask = np.zeros(grey.shape[:2], np.uint8)
        cv2.circle(
            mask,
            (round(float(centre[0])), round(float(centre[1]))),
            max(1, round(radius * 0.8)),
            (255,),
            -1,
        )
        return _mean_in_mask(grey, mask)
    values = grey[_poly_mask(grey.shape, poly) > 0]
    if values.size == 0:
        return None
    return float(np.mean(np.sort(values)[: max(1, values.size // 2)]))


def face_box(face: FaceObservation) -> Box:
    """The mesh's bounding box when present (tighter), else the detection box."""
    if face.mesh is None:
        return face.detection.box
    xy = face.mesh.points[:, :2]
    return Box(
        float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())
    )


def box_iou(a: Box, b: Box) -> float:
    inter_w = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    inter_h = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = inter_w * inter_h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
