"""The 3-D check `planar_motion`: does the face move like a flat sheet?

A real head turning or nodding shows parallax: the nose moves against the cheeks, the far cheek
folds away. A printed photo or a screen turned on cue is a plane, and every point of a plane
moves by one homography between two views. For each head movement of the challenge the probe
tracks the face's texture (corners inside the mesh's hull, followed frame to frame) from the
step's first frame to the frame where the movement peaks and fits both an affine map and a
homography (least squares) to the tracks. `planar_share` is the homography's RMS residual over
the affine one: the part of the non-affine motion that one homography cannot explain. A plane
leaves almost nothing (perspective is exactly a homography); a head leaves most of it. A share
below `planar_max_residual` is positive attack evidence (policy reason `planar_motion`).

The face mesh's own landmarks cannot make this test: on a turned print the mesh model still
places them as on a turning head (its 3-D prior), so their homography residual grows with the
angle as a real head's does (measured: 0.003-0.005 inter-ocular distances per mesh degree for
both). `planar_residual` (mesh points) is kept for that measurement.

`plane_view` renders the attack from geometry alone (no detector): the image of a flat picture
rotated in 3-D in front of a pinhole camera (device/liveness/planar_print.py turns it on cue).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.geometry import inter_ocular_distance
from device.vision.types import Points

Image = npt.NDArray[np.uint8]
MIN_POINTS = 8
REGION_GROW = 0.6


def planar_residual(start: Points, peak: Points, points: Sequence[int] | None = None) -> float:
    """RMS distance, in inter-ocular distances of `start`, between the peak mesh and the start
    mesh mapped by the best homography over `points` (default all; inf when none fits)."""
    chosen = list(points) if points is not None else list(range(len(start)))
    src = np.asarray(start[chosen, :2], np.float64)
    dst = np.asarray(peak[chosen, :2], np.float64)
    scale = inter_ocular_distance(start)
    if len(src) < MIN_POINTS or scale <= 0:
        return math.inf
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return math.inf
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    return float(np.sqrt(np.mean(np.sum((mapped - dst) ** 2, axis=1)))) / scale


def plane_homography(
    size: tuple[int, int], yaw_deg: float, pitch_deg: float, focal_px: float, distance_px: float
) -> npt.NDArray[np.float64]:
    """The homography that shows a picture (filling `size`, facing the camera at `distance_px`)
    rotated by yaw about its vertical and pitch about its horizontal centre line."""
    width, height = size
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    rot_y = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0],
                      [-math.sin(yaw), 0, math.cos(yaw)]])  # fmt: skip
    rot_x = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)],
                      [0, math.sin(pitch), math.cos(pitch)]])  # fmt: skip
    rotation = rot_x @ rot_y
    camera = np.array([[focal_px, 0, width / 2], [0, focal_px, height / 2], [0, 0, 1]])
    # Picture pixel (u, v) -> plane point (u - w/2, v - h/2, 0) * (distance / focal) in front.
    to_plane = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 0]]) * (
        distance_px / focal_px
    )
    centre = np.array([0.0, 0.0, distance_px])
    lift = np.zeros((3, 3))
    lift[:, 2] = centre
    world = rotation @ to_plane + lift
    return np.asarray(camera @ world, dtype=np.float64)


def plane_view(
    picture: Image, yaw_deg: float, pitch_deg: float = 0.0, focal_px: float = 600.0,
    background: Image | None = None,
) -> Image:  # fmt: skip
    """The picture as a flat sheet turned by yaw/pitch, seen by a pinhole camera of `focal_px`
    (600 px: a 640-wide sensor with a 56-degree field of view), over `background`."""
    height, width = picture.shape[:2]
    matrix = plane_homography((width, height), yaw_deg, pitch_deg, focal_px, focal_px)
    warped = cv2.warpPerspective(picture, matrix, (width, height))
    if background is None:
        return np.asarray(warped, dtype=np.uint8)
    mask = cv2.warpPerspective(np.full(picture.shape[:2], 255, np.uint8), matrix, (width, height))
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    return np.asarray(warped * alpha + background * (1 - alpha), dtype=np.uint8)


class PlanarCheck:
    """Follows the face texture through each head-movement step of a challenge: corners found
    inside the mesh's hull at the step's first frame, tracked frame to frame (pyramidal
    Lucas-Kanade, forward-backward checked); at the frame where the asked movement peaks (level
    >= 1) the planar share (module docstring) from the first to the current positions is kept.
    `residuals` holds one share per head-movement step that reached its threshold."""

    def __init__(self, max_points: int = 200, min_points: int = 20) -> None:
        self.max_points = max_points
        self.min_points = min_points
        self.residuals: list[float] = []
        self._step = -1
        self._reset()

    def _reset(self) -> None:
        self._grey: npt.NDArray[np.uint8] | None = None
        self._region = (0, 0, 0, 0)  # the step's part of the frame (face_region), fixed
        self._start: npt.NDArray[np.float32] | None = None
        self._now: npt.NDArray[np.float32] | None = None
        self._alive: npt.NDArray[np.bool_] | None = None
        self._scale = 0.0
        self._best_level = 0.0
        self._best: float | None = None

    def observe(self, step: int, pose_step: bool, level: float, rgb: Image,
                points: Points | None) -> None:  # fmt: skip
        """One frame of the challenge: `step` index, whether a head movement is being asked
        for now (window open), the asked action's level, the frame and the mesh (or None)."""
        if step != self._step:
            self.finish()
            self._step = step
        if not pose_step or points is None:
            return
        if self._grey is None:
            self._region = face_region(rgb.shape, points)
        x0, y0, x1, y1 = self._region
        grey = np.asarray(cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]),
                                       cv2.COLOR_RGB2GRAY), dtype=np.uint8)  # fmt: skip
        if self._grey is None:
            self._begin(grey, points - np.array([x0, y0, 0][: points.shape[1]], np.float32))
            return
        self._advance(grey)
        if level >= 1.0 and level > self._best_level:
            self._best_level = level
            self._best = self._residual()

    def finish(self) -> None:
        """Close the current step (its residual, if it peaked, joins `residuals`)."""
        if self._best is not None:
            self.residuals.append(self._best)
        self._reset()

    def _begin(self, grey: npt.NDArray[np.uint8], points: Points) -> None:
        mask = np.zeros(grey.shape, np.uint8)
        hull = cv2.convexHull(np.round(points[:, :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (255,))
        inner = cv2.erode(mask, np.ones((9, 9), np.uint8))
        corners = cv2.goodFeaturesToTrack(grey, self.max_points, 0.01, 5, mask=inner)
        if corners is None or len(corners) < self.min_points:
            return
        self._grey, self._scale = grey, inter_ocular_distance(points)
        self._start = np.asarray(corners, np.float32)
        self._now = self._start.copy()
        self._alive = np.ones(len(corners), bool)

    def _advance(self, grey: npt.NDArray[np.uint8]) -> None:
        assert self._grey is not None and self._now is not None and self._alive is not None
        moved, found, _ = cv2.calcOpticalFlowPyrLK(
            self._grey, grey, self._now, np.empty(0), winSize=(21, 21), maxLevel=3
        )
        back, again, _ = cv2.calcOpticalFlowPyrLK(
            grey, self._grey, moved, np.empty(0), winSize=(21, 21), maxLevel=3
        )
        drift = np.linalg.norm((back - self._now).reshape(-1, 2), axis=1)
        self._alive &= (found.ravel() == 1) & (again.ravel() == 1) & (drift < 1.0)
        self._now, self._grey = np.asarray(moved, np.float32), grey

    def _residual(self) -> float | None:
        assert self._start is not None and self._now is not None and self._alive is not None
        if int(self._alive.sum()) < self.min_points or self._scale <= 0:
            return None
        src = self._start[self._alive].reshape(-1, 2).astype(np.float64)
        dst = self._now[self._alive].reshape(-1, 2).astype(np.float64)
        return planar_share(src, dst)


def face_region(shape: tuple[int, ...], points: Points) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the part of the frame a step's texture is tracked in: the mesh's box
    grown by REGION_GROW of its size on every side (the head moves within it; the Lucas-Kanade
    pyramid's top-level window, 21 x 2^3 px, fits between the face and the region's edge)."""
    xy = points[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    grow = REGION_GROW * float(max(hi - lo))
    height, width = shape[:2]
    x0, y0 = max(0, int(lo[0] - grow)), max(0, int(lo[1] - grow))
    x1, y1 = min(width, int(hi[0] + grow) + 1), min(height, int(hi[1] + grow) + 1)
    return x0, y0, max(x0, x1), max(y0, y1)


def planar_share(src: npt.NDArray[np.float64], dst: npt.NDArray[np.float64]) -> float | None:
    """RMS residual of the best homography from src to dst over that of the best affine map
    (None when no homography fits or the motion is affine to within a hundredth of a pixel)."""
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return None
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    homography = float(np.sqrt(np.mean(np.sum((mapped - dst) ** 2, axis=1))))
    design = np.column_stack([src, np.ones(len(src))])
    coef = np.linalg.lstsq(design, dst, rcond=None)[0]
    affine = float(np.sqrt(np.mean(np.sum((design @ coef - dst) ** 2, axis=1))))
    return homography / affine if affine > 0.01 else None
