"""Synthetic bona fide face frames from one still image, driven by its own face mesh.

SYNTHETIC ONLY: these frames test the liveness logic end to end without a camera. They are made by
moving face-mesh points (eyelids, lips, a 3D rotation of the whole mesh) and warping the image
along a smooth displacement field, then adding a diffuse screen-flash reflection and camera noise.
They are no substitute for captures from a real camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.spatial import Delaunay

from device.vision.types import Image, Points

FloatImage = npt.NDArray[np.float32]
# Upper and lower lid contours (mesh indices) of the person's right and left eye.
UPPER_LIDS = ((246, 161, 160, 159, 158, 157, 173), (466, 388, 387, 386, 385, 384, 398))
LOWER_LIDS = ((7, 163, 144, 145, 153, 154, 155), (249, 390, 373, 374, 380, 381, 382))
EYE_RINGS = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
)
INNER_UPPER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER_LIP = (95, 88, 178, 87, 14, 317, 402, 318, 324)
# Points that move down with the jaw when the mouth opens: lower lip, chin and jaw line.
JAW_POINTS = (
    14,
    87,
    178,
    88,
    95,
    317,
    402,
    318,
    324,
    17,
    84,
    181,
    91,
    146,
    314,
    405,
    321,
    375,
    15,
    16,
    85,
    86,
    179,
    180,
    90,
    89,
    96,
    77,
    316,
    315,
    404,
    403,
    320,
    319,
    325,
    307,
    18,
    83,
    182,
    313,
    406,
    200,
    199,
    175,
    152,
    148,
    176,
    149,
    150,
    377,
    400,
    378,
    379,
    201,
    208,
    421,
    428,
    171,
    396,
    140,
    369,
    32,
    262,
    194,
    418,
    211,
    431,
    170,
    395,
)
GRID_STEP_PX = 4


@dataclass(frozen=True, slots=True)
class Pose:
    """What the synthetic person does in one frame: rotation (degrees, HeadPose signs), eye
    closure and mouth opening (0..1)."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    eyes_closed: float = 0.0
    mouth_open: float = 0.0


def rotate_mesh(points: Points, yaw_deg: float, pitch_deg: float) -> Points:
    """The mesh turned about its own centre; yaw > 0 towards the person's left (image right)."""
    xyz = points[:, :3].astype(np.float64)
    centre = xyz.mean(axis=0)
    centre[2] += 0.6 * float(np.ptp(xyz[:, 0]))  # rotate about the neck, behind the face
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    rot_y = np.array(
        [[math.cos(yaw), 0, -math.sin(yaw)], [0, 1, 0], [math.sin(yaw), 0, math.cos(yaw)]]
    )
    rot_x = np.array(
        [[1, 0, 0], [0, math.cos(pitch), math.sin(pitch)], [0, -math.sin(pitch), math.cos(pitch)]]
    )
    moved = (xyz - centre) @ (rot_x @ rot_y).T + centre
    return np.asarray(moved, dtype=np.float32)


def close_eyes(points: Points, amount: float) -> Points:
    """Upper lids moved down towards the lower lids by `amount` (0 open .. 1 closed)."""
    out = points.copy()
    for upper, lower in zip(UPPER_LIDS, LOWER_LIDS, strict=True):
        target = points[list(lower), :2].mean(axis=0)
        for index in upper:
            gap = target[1] - points[index, 1] - 1.0
            out[index, 1] += amount * max(0.0, float(gap))
    return out


def open_mouth(points: Points, amount: float) -> Points:
    """Lower lip and jaw moved down by up to 0.4 of the mouth width."""
    out = points.copy()
    width = float(np.linalg.norm(points[61, :2] - points[291, :2]))
    out[list(JAW_POINTS), 1] += amount * 0.4 * width
    return out


def posed_mesh(points: Points, pose: Pose) -> Points:
    moved = close_eyes(open_mouth(points, pose.mouth_open), pose.eyes_closed)
    return rotate_mesh(moved, pose.yaw_deg, pose.pitch_deg)


class Warper:
    """Moves image content from the still's mesh points to new positions along a piecewise-
    linear displacement field (frame border fixed). The triangulation and the coarse grid's
    barycentric weights are computed once per still, so each frame costs one sparse product and
    a few remaps. The backward map is found by fixed-point iteration on the forward field."""

    def __init__(self, points: Points, shape: tuple[int, ...]) -> None:
        height, width = shape[:2]
        self.size = (width, height)
        self.mesh = points
        self.points = points[:, :2].astype(np.float64)
        anchors = np.vstack([self.points, _border_points(width, height)])
        self.n_points = len(self.points)
        xs = np.linspace(0, width - 1, width // GRID_STEP_PX + 1)
        ys = np.linspace(0, height - 1, height // GRID_STEP_PX + 1)
        self.grid_shape = (len(ys), len(xs))
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        self.weights = _barycentric_matrix(Delaunay(anchors), grid, len(anchors))
        self.base_x = np.tile(np.arange(width, dtype=np.float32), (height, 1))
        self.base_y = np.tile(np.arange(height, dtype=np.float32)[:, None], (1, width))

    def warp(self, image: Image, dst: Points) -> Image:
        shift = np.zeros((self.weights.shape[1], 2))
        shift[: self.n_points] = dst[:, :2] - self.points
        coarse = np.asarray(self.weights @ shift, dtype=np.float32)
        fields = [cv2.resize(coarse[:, i].reshape(self.grid_shape), self.size) for i in range(2)]
        map_x, map_y = self.base_x - fields[0], self.base_y - fields[1]
        for _ in range(2):  # fixed-point refinement: the shift is read where the pixel came from
            shift_x = cv2.remap(
                fields[0], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            shift_y = cv2.remap(
                fields[1], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            map_x, map_y = self.base_x - shift_x, self.base_y - shift_y
        out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return np.asarray(out, dtype=np.uint8)


def _barycentric_matrix(tri: Delaunay, grid: npt.NDArray[np.float64], n: int) -> csr_matrix:
    simplex = tri.find_simplex(grid)
    inside = simplex >= 0
    transform = tri.transform[simplex[inside]]
    delta = grid[inside] - transform[:, 2]
    bary = np.einsum("ijk,ik->ij", transform[:, :2], delta)
    weights = np.hstack([bary, 1.0 - bary.sum(axis=1, keepdims=True)])
    rows = np.repeat(np.flatnonzero(inside), 3)
    cols = tri.simplices[simplex[inside]].ravel()
    return csr_matrix((weights.ravel(), (rows, cols)), shape=(len(grid), n))


def _border_points(width: int, height: int) -> npt.NDArray[np.float32]:
    xs = np.linspace(0, width - 1, 9)
    ys = np.linspace(0, height - 1, 7)
    rows = [(x, y) for x in xs for y in (0.0, height - 1.0)]
    rows += [(x, y) for y in ys for x in (0.0, width - 1.0)]
    return np.asarray(rows, dtype=np.float32)


def shade_eyes(image: Image, points: Points, amount: float) -> Image:
    """Paint closed lids: skin (sampled just above the brow side of each eye) over the eye and a
    dark lash line along the lower lid."""
    if amount <= 0.05:
        return image
    out = image.copy()
    alpha_max = min(1.0, amount)
    for ring, lower in zip(EYE_RINGS, LOWER_LIDS, strict=True):
        poly = points[list(ring), :2]
        height = float(np.ptp(poly[:, 1])) + 2.0
        skin = _mean_in(image, poly - np.array([0.0, 1.5 * height], dtype=np.float32))
        mask = np.zeros(image.shape[:2], np.uint8)
        hull = cv2.convexHull(np.round(poly).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (255,))
        soft = cv2.GaussianBlur(cv2.dilate(mask, np.ones((3, 3), np.uint8)), (5, 5), 0)
        alpha = (np.asarray(soft, dtype=np.float32) / 255.0 * alpha_max)[..., None]
        out = (out * (1 - alpha) + skin * 0.85 * alpha).astype(np.uint8)
        lash = np.round(points[list(lower), :2]).astype(np.int32)
        shade = tuple(int(v) for v in skin * (1.0 - 0.6 * alpha_max))
        cv2.polylines(out, [lash], False, shade, 1, cv2.LINE_AA)
    return out


def shade_mouth(image: Image, points: Points, amount: float) -> Image:
    """Paint the dark inside of an open mouth between the inner lips."""
    if amount <= 0.05:
        return image
    poly = np.vstack([points[list(INNER_UPPER_LIP), :2], points[list(INNER_LOWER_LIP), :2]])
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(poly).astype(np.int32)), (255,))
    alpha = (cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255.0 * 0.85)[..., None]
    dark = np.array([45.0, 20.0, 20.0], dtype=np.float32)
    return (image * (1 - alpha) + dark * alpha).astype(np.uint8)


def _mean_in(image: Image, poly: Points) -> npt.NDArray[np.float32]:
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], (255,))
    if not mask.any():
        return np.asarray(image.reshape(-1, 3).mean(axis=0), dtype=np.float32)
    return np.asarray(image[mask > 0].mean(axis=0), dtype=np.float32)


def render_pose(base: Image, warper: Warper, pose: Pose) -> tuple[Image, Points]:
    """One synthetic frame of the person in `pose`, and where the mesh points went."""
    target = posed_mesh(warper.mesh, pose)
    frame = warper.warp(base, target)
    frame = shade_mouth(frame, target, pose.mouth_open)
    frame = shade_eyes(frame, target, pose.eyes_closed * 0.5)
    return frame, target


def face_mask(shape: tuple[int, ...], points: Points) -> FloatImage:
    """A soft 0..1 mask of the face (convex hull of the mesh)."""
    mask = np.zeros(shape[:2], np.uint8)
    hull = cv2.convexHull(np.round(points[:, :2]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, (255,))
    return np.asarray(cv2.GaussianBlur(mask, (9, 9), 0), dtype=np.float32) / 255.0


def reflect_flash(
    frame: Image,
    mask: FloatImage,
    flash_rgb: tuple[int, int, int],
    face_gain: float,
    background_gain: float,
) -> Image:
    """Diffuse reflection of the screen colour: pixel * (1 + gain * colour/255), the face (near
    the screen) gaining more than the background."""
    colour = np.asarray(flash_rgb, dtype=np.float32) / 255.0
    gain = (background_gain + (face_gain - background_gain) * mask)[..., None] * colour
    out = frame.astype(np.float32) * (1.0 + gain)
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def camera_noise(frame: Image, rng: np.random.Generator, sigma: float) -> Image:
    noisy = frame.astype(np.float32) + rng.standard_normal(frame.shape, dtype=np.float32) * sigma
    return np.asarray(np.clip(noisy, 0, 255), dtype=np.uint8)
