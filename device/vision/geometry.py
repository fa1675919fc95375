"""Pure measures on a 468-point face mesh (frame pixels), used by quality gates and liveness.

Head pose is read from the mesh's own 3D shape (face_landmark predicts x, y and a relative depth
z on the same pixel scale), so no camera intrinsics are needed: the eye line and the eyes-to-mouth
line span the face plane, whose normal is the direction the face points to.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from device.vision.types import HeadPose, Points

Vec64 = npt.NDArray[np.float64]
# Six points per eye (corner, upper lid x2, corner, lower lid x2), person's right eye first.
EAR_POINTS = ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380))
EYE_CORNERS = ((33, 133), (362, 263))
MOUTH_CORNERS = (61, 291)
INNER_LIPS = (13, 14)
# The mesh's face plane leans back a little (the mouth corners lie deeper than the eye corners):
# 3.0 degrees is the median raw pitch over 299 random LFW faces (mostly level), subtracted so that
# a level face reads pitch 0.
PITCH_OFFSET_DEG = 3.0


def _dist(points: Points, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a, :2] - points[b, :2]))


def eye_aspect_ratio(points: Points) -> tuple[float, float]:
    """(right, left) eye aspect ratio (Soukupová & Čech 2016): mean lid opening over eye width.
    On a refined mesh (FaceAnalyzer.analyze with_iris=True) open eyes read about 0.3-0.4 and
    closed ones below 0.2; the plain mesh reads about 0.25 open and follows closure poorly."""
    ratios = []
    for p1, p2, p3, p4, p5, p6 in EAR_POINTS:
        width = _dist(points, p1, p4)
        opening = _dist(points, p2, p6) + _dist(points, p3, p5)
        ratios.append(opening / (2.0 * width) if width > 0 else 0.0)
    return ratios[0], ratios[1]


def mouth_opening_ratio(points: Points) -> float:
    """Inner-lip gap over mouth width: near 0 closed, above about 0.3 wide open."""
    width = _dist(points, *MOUTH_CORNERS)
    return _dist(points, *INNER_LIPS) / width if width > 0 else 0.0


def eye_centres(points: Points) -> Points:
    """2x2: centres (midpoint of the corners) of the person's right eye, then left eye."""
    return np.asarray(
        [(points[a, :2] + points[b, :2]) / 2.0 for a, b in EYE_CORNERS], dtype=np.float32
    )


def inter_ocular_distance(points: Points) -> float:
    """Distance in pixels between the eye centres."""
    right, left = eye_centres(points)
    return float(np.linalg.norm(left - right))


def _unit(vector: Vec64) -> Vec64:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def face_axes(points: Points) -> tuple[Vec64, Vec64, Vec64]:
    """Unit vectors in image axes (x right, y down, z away from the camera): across the face
    (person's right eye to left eye), down the face (eyes to mouth) and forward (out of it)."""
    xyz = points[:, :3].astype(np.float64)
    right = xyz[list(EYE_CORNERS[0])].mean(axis=0)
    left = xyz[list(EYE_CORNERS[1])].mean(axis=0)
    mouth = xyz[list(MOUTH_CORNERS)].mean(axis=0)
    across = _unit(left - right)
    down = mouth - (left + right) / 2.0
    down = _unit(down - float(down @ across) * across)
    forward = _unit(np.cross(down, across))
    return across, down, forward


def head_pose(points: Points, pitch_offset_deg: float = PITCH_OFFSET_DEG) -> HeadPose:
    """Yaw, pitch and roll in degrees with the signs documented on types.HeadPose."""
    across, _, forward = face_axes(points)
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch - pitch_offset_deg, roll_deg=roll)
