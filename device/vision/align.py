"""Five-point face alignment to the 112x112 ArcFace template that SFace was trained on."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.types import FaceObservation, Image, Points

ALIGNED_SIZE = 112
# The standard ArcFace 112x112 landmark template (x, y): the eye on the image's left, the eye on
# the image's right, nose tip, mouth corner on the image's left, mouth corner on the image's right.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)
# Face-mesh indices: eye corners and lids (person's right eye, on the image's left, first),
# nose tip, mouth corners.
MESH_EYES = ((33, 133, 159, 145), (362, 263, 386, 374))
MESH_NOSE_TIP = 1
MESH_MOUTH_CORNERS = (61, 291)
# In the template, mouth width over eye distance (29.18 / 35.24): used to place mouth corners
# from a detection's mouth centre when no mesh is available.
MOUTH_TO_EYE_RATIO = 0.828


def five_points(obs: FaceObservation) -> Points:
    """5x2 frame-pixel points in template order, from the mesh when present, else from the
    detection's keypoints (mouth corners then estimated from the mouth centre and eye line)."""
    if obs.mesh is not None:
        points = obs.mesh.points[:, :2]
        eyes = [points[list(idx)].mean(axis=0) for idx in MESH_EYES]
        rows = [*eyes, points[MESH_NOSE_TIP], *(points[i] for i in MESH_MOUTH_CORNERS)]
        return np.asarray(rows, dtype=np.float32)
    keypoints = obs.detection.keypoints
    right_eye, left_eye, nose, mouth = (keypoints[i] for i in range(4))
    half_mouth = (left_eye - right_eye) * (MOUTH_TO_EYE_RATIO / 2.0)
    rows = [right_eye, left_eye, nose, mouth - half_mouth, mouth + half_mouth]
    return np.asarray(rows, dtype=np.float32)


def similarity_transform(src: Points, dst: Points) -> npt.NDArray[np.float64]:
    """Least-squares similarity (rotation, uniform scale, translation; no reflection) mapping
    src onto dst (Umeyama 1991), as a 2x3 matrix."""
    src64, dst64 = src.astype(np.float64), dst.astype(np.float64)
    src_mean, dst_mean = src64.mean(axis=0), dst64.mean(axis=0)
    src_c, dst_c = src64 - src_mean, dst64 - dst_mean
    covariance = dst_c.T @ src_c / len(src64)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    variance = float((src_c**2).sum() / len(src64))
    if variance <= 0.0:
        raise ValueError("alignment points are all identical")
    scale = float((singular * sign).sum()) / variance
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_face(rgb: Image, points: Points) -> Image:
    """The 112x112x3 uint8 RGB crop whose five points best match the ArcFace template."""
    if points.shape != (5, 2):
        raise ValueError(f"align_face needs 5x2 points, got {points.shape}")
    matrix = similarity_transform(points, ARCFACE_TEMPLATE)
    aligned = cv2.warpAffine(
        rgb,
        matrix,
        (ALIGNED_SIZE, ALIGNED_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return np.asarray(aligned, dtype=np.uint8)
