"""Face mesh and iris on the astronaut: points in the face, in anatomical order, in frame pixels."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from device.vision.analyzer import FaceAnalyzer
from device.vision.landmarks import EYE_CONTOURS, Roi, face_roi
from device.vision.types import Box, Detection, FaceObservation
from tests.support.vision import rotate

Image = npt.NDArray[np.uint8]
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, NOSE_TIP, UPPER_LIP, CHIN = 33, 263, 1, 13, 152


def test_mesh_lands_inside_the_face(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None
    points = astronaut_face.mesh.points
    assert points.shape == (468, 3) and points.dtype == np.float32
    assert astronaut_face.mesh.presence > 0.9
    box = astronaut_face.detection.box
    margin = 0.15 * box.width
    inner = points[[RIGHT_EYE_OUTER, LEFT_EYE_OUTER, NOSE_TIP, UPPER_LIP]]
    assert (inner[:, 0] > box.x0).all() and (inner[:, 0] < box.x1).all()
    assert (inner[:, 1] > box.y0).all() and (inner[:, 1] < box.y1 + margin).all()
    eyes_y = points[[RIGHT_EYE_OUTER, LEFT_EYE_OUTER], 1].max()
    assert eyes_y < points[NOSE_TIP, 1] < points[UPPER_LIP, 1] < points[CHIN, 1]
    assert points[RIGHT_EYE_OUTER, 0] < points[NOSE_TIP, 0] < points[LEFT_EYE_OUTER, 0]


def test_mesh_points_agree_with_detection_keypoints(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None
    points = astronaut_face.mesh.points
    keypoints = astronaut_face.detection.keypoints
    right_eye = points[[33, 133], :2].mean(axis=0)
    left_eye = points[[362, 263], :2].mean(axis=0)
    assert np.linalg.norm(right_eye - keypoints[0]) < 5.0
    assert np.linalg.norm(left_eye - keypoints[1]) < 5.0


def test_iris_centres_lie_between_the_eye_corners(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None and astronaut_face.mesh.iris is not None
    iris, points = astronaut_face.mesh.iris, astronaut_face.mesh.points
    assert iris.shape == (2, 5, 2)
    for eye, (a, b) in enumerate(((33, 133), (362, 263))):
        centre = iris[eye, 0]
        assert points[a, 0] < centre[0] < points[b, 0]
        assert abs(centre[1] - (points[a, 1] + points[b, 1]) / 2) < 4.0
        radius = np.linalg.norm(iris[eye, 1:] - centre, axis=1)
        assert 2.0 < radius.mean() < 8.0  # about 4 px in this 512 px portrait


def test_mesh_follows_a_rotated_face(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    upright = analyzer.analyze(astronaut)[0]
    turned = analyzer.analyze(rotate(astronaut, 30.0))[0]
    assert upright.mesh is not None and turned.mesh is not None
    angle = math.radians(30.0)
    centre = np.array([256.0, 256.0])
    matrix = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    expected = (upright.mesh.points[:, :2] - centre) @ matrix.T + centre
    error = np.linalg.norm(turned.mesh.points[:, :2] - expected, axis=1)
    assert float(np.median(error)) < 2.5


def test_no_face_gives_low_presence(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    keypoints = np.array([[420, 60], [470, 60], [445, 85], [445, 110], [400, 70], [490, 70]])
    flag_area = Detection(Box(395.0, 20.0, 495.0, 120.0), 0.9, keypoints.astype(np.float32))
    mesh = analyzer.landmarker.run(np.full_like(astronaut, 90), flag_area)
    assert mesh.presence < 0.5


def test_roi_round_trip() -> None:
    roi = Roi(cx=100.0, cy=50.0, side=60.0, angle=math.radians(20))
    crop_points = np.array([[0.0, 0.0], [192.0, 192.0], [96.0, 96.0]], dtype=np.float32)
    frame = roi.to_frame(crop_points, 192)
    np.testing.assert_allclose(frame[2], [100.0, 50.0], atol=1e-4)
    assert np.linalg.norm(frame[1] - frame[0]) == pytest.approx(60.0 * math.sqrt(2), rel=1e-5)


def test_face_roi_is_level_with_the_eyes(astronaut_face: FaceObservation) -> None:
    roi = face_roi(astronaut_face.detection)
    keypoints = astronaut_face.detection.keypoints
    assert roi.side == pytest.approx(1.5 * astronaut_face.detection.box.width, rel=0.05)
    slope = math.atan2(keypoints[1, 1] - keypoints[0, 1], keypoints[1, 0] - keypoints[0, 0])
    assert roi.angle == pytest.approx(slope)


def test_iris_eye_contours_map_onto_the_mesh_lids(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    (plain,) = analyzer.analyze(astronaut)
    (refined,) = analyzer.analyze(astronaut, with_iris=True)
    assert plain.mesh is not None and refined.mesh is not None
    moved = np.linalg.norm(refined.mesh.points[:, :2] - plain.mesh.points[:, :2], axis=1)
    lids = sorted(i for eye in EYE_CONTOURS for i in eye)
    assert len(set(lids)) == 32
    assert moved[lids].max() < 3.0  # the same anatomical points, a little sharper
    others = np.setdiff1d(np.arange(468), lids)
    assert moved[others].max() == 0.0
