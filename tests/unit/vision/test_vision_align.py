"""Five-point alignment: exact similarity fit, template placement, stability under rotation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
import pytest

from device.vision.align import (
    ALIGNED_SIZE,
    ARCFACE_TEMPLATE,
    align_face,
    five_points,
    similarity_transform,
)
from device.vision.analyzer import FaceAnalyzer
from device.vision.types import FaceObservation
from tests.support.vision import rotate

Image = npt.NDArray[np.uint8]


def _apply(
    matrix: npt.NDArray[np.float64], points: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    return points.astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_transform_recovers_a_known_one() -> None:
    angle, scale, shift = math.radians(-25.0), 2.5, np.array([7.0, -3.0])
    cos, sin = math.cos(angle), math.sin(angle)
    rotation = scale * np.array([[cos, -sin], [sin, cos]])
    src = ARCFACE_TEMPLATE
    dst = (src @ rotation.T + shift).astype(np.float32)
    matrix = similarity_transform(src, dst)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-5)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-4)


def test_identical_points_are_refused() -> None:
    with pytest.raises(ValueError):
        similarity_transform(np.ones((5, 2), np.float32), ARCFACE_TEMPLATE)


def test_five_points_are_in_template_order(astronaut_face: FaceObservation) -> None:
    points = five_points(astronaut_face)
    assert points.shape == (5, 2)
    assert points[0, 0] < points[2, 0] < points[1, 0]
    assert points[3, 0] < points[4, 0]
    assert points[:2, 1].max() < points[2, 1] < points[3:, 1].min()


def test_aligned_crop_puts_the_points_on_the_template(
    astronaut: Image, astronaut_face: FaceObservation
) -> None:
    points = five_points(astronaut_face)
    aligned = align_face(astronaut, points)
    assert aligned.shape == (ALIGNED_SIZE, ALIGNED_SIZE, 3) and aligned.dtype == np.uint8
    mapped = _apply(similarity_transform(points, ARCFACE_TEMPLATE), points)
    # A least-squares fit of a real (here smiling) face: the eyes sit within 3 px of the
    # template, the wider mouth within 6 px.
    assert np.abs(mapped[:2] - ARCFACE_TEMPLATE[:2]).max() < 3.0
    assert np.abs(mapped - ARCFACE_TEMPLATE).max() < 6.0


@pytest.mark.parametrize("degrees", [-15.0, 15.0])
def test_alignment_is_stable_under_in_plane_rotation(
    analyzer: FaceAnalyzer, astronaut: Image, astronaut_face: FaceObservation, degrees: float
) -> None:
    reference = align_face(astronaut, five_points(astronaut_face))
    (turned,) = analyzer.analyze(rotate(astronaut, degrees))
    aligned = align_face(rotate(astronaut, degrees), five_points(turned))
    diff = np.abs(aligned.astype(np.int16) - reference.astype(np.int16))
    centre = diff[16:96, 16:96]  # the face, not the black corners brought in by rotation
    assert float(centre.mean()) < 8.0, float(centre.mean())
    # The same anatomical points land within 2 px of each other in both crops.
    upright_points = _apply(
        similarity_transform(five_points(astronaut_face), ARCFACE_TEMPLATE),
        five_points(astronaut_face),
    )
    turned_points = _apply(
        similarity_transform(five_points(turned), ARCFACE_TEMPLATE), five_points(turned)
    )
    assert np.abs(upright_points - turned_points).max() < 2.0


def test_detection_keypoints_alone_give_a_close_crop(
    astronaut: Image, astronaut_face: FaceObservation
) -> None:
    fine = five_points(astronaut_face)
    coarse = five_points(dataclasses.replace(astronaut_face, mesh=None, pose=None))
    assert align_face(astronaut, coarse).shape == (ALIGNED_SIZE, ALIGNED_SIZE, 3)
    # Where the mesh's five points land in the crop made from the detection's keypoints.
    landed = _apply(similarity_transform(coarse, ARCFACE_TEMPLATE), fine)
    assert np.abs(landed[:3] - ARCFACE_TEMPLATE[:3]).max() < 4.0  # eyes and nose
    assert np.abs(landed - ARCFACE_TEMPLATE).max() < 10.0  # estimated mouth corners, smiling
