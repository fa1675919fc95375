"""Mesh measures: eye and mouth ratios, inter-ocular distance, head pose signs (types.HeadPose)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from device.vision.analyzer import FaceAnalyzer
from device.vision.geometry import (
    EAR_POINTS,
    eye_aspect_ratio,
    head_pose,
    inter_ocular_distance,
    mouth_opening_ratio,
)
from device.vision.landmarks import EYE_CONTOURS
from device.vision.types import FaceObservation, HeadPose
from tests.support.vision import LFW_IMAGES, rotate

Image = npt.NDArray[np.uint8]
# LFW faces seen turned: yaw measured about +37 and -36 degrees.
TURNED_TO_THEIR_LEFT = "Joseph_Blatter/Joseph_Blatter_0001.jpg"
TURNED_TO_THEIR_RIGHT = "Myung_Yang/Myung_Yang_0001.jpg"
# A face laughing with the eyes almost shut (EAR about 0.16; the LFW median is about 0.27).
SQUINTING = "Roseanne_Barr/Roseanne_Barr_0002.jpg"


def _pose(analyzer: FaceAnalyzer, image: Image) -> HeadPose:
    faces = analyzer.analyze(np.ascontiguousarray(image), max_faces=1)
    assert faces and faces[0].pose is not None
    return faces[0].pose


def _lfw(name: str) -> Image:
    path = LFW_IMAGES / name
    if not path.is_file():
        pytest.skip(f"LFW development images absent ({path})")
    return np.asarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), dtype=np.uint8)


def test_open_eyes_and_smiling_mouth(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None
    points = astronaut_face.mesh.points
    right, left = eye_aspect_ratio(points)  # refined lids (with_iris): open eyes read ~0.35
    assert 0.28 < right < 0.45 and 0.28 < left < 0.45
    assert 0.05 < mouth_opening_ratio(points) < 0.3  # smiling, teeth showing
    assert inter_ocular_distance(points) == pytest.approx(
        0.45 * astronaut_face.detection.box.width, rel=0.2
    )


def _close_eyes(image: Image, points: npt.NDArray[np.float32]) -> Image:
    """Synthetic closed eyes: each eye inpainted with the skin around it, then a lash line drawn
    from corner to corner, sagging a little in the middle."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for indices in EYE_CONTOURS:
        contour = points[list(indices), :2]
        centre = contour.mean(axis=0)
        grown = (contour - centre) * [1.2, 1.8] + centre
        cv2.fillPoly(mask, [grown.astype(np.int32)], 255)
    closed = cv2.inpaint(np.ascontiguousarray(image), mask, 5, cv2.INPAINT_TELEA)
    for indices in EYE_CONTOURS:
        start, end = points[indices[0], :2], points[indices[8], :2]
        middle = (start + end) / 2.0
        sag = np.array([[-6.0, 3.0], [0.0, 4.0], [6.0, 3.0]])
        line = np.round(np.vstack([start, middle + sag, end])).astype(np.int32)
        cv2.polylines(closed, [line], False, (60, 40, 35), 2, cv2.LINE_AA)
    return np.asarray(closed, dtype=np.uint8)


def test_refined_ear_drops_on_synthetic_closed_eyes(
    analyzer: FaceAnalyzer, astronaut: Image, astronaut_face: FaceObservation
) -> None:
    assert astronaut_face.mesh is not None  # analysed with_iris: refined eye contours
    open_ear = eye_aspect_ratio(astronaut_face.mesh.points)
    faces = analyzer.analyze(_close_eyes(astronaut, astronaut_face.mesh.points), with_iris=True)
    assert faces and faces[0].mesh is not None
    closed_ear = eye_aspect_ratio(faces[0].mesh.points)
    for before, after in zip(open_ear, closed_ear, strict=True):
        assert before > 0.28
        assert after < 0.2 and after < 0.6 * before


def test_ear_falls_as_the_lids_close(astronaut_face: FaceObservation) -> None:
    """Pure geometry: every lid point moved 80 % of the way to the line between the corners."""
    assert astronaut_face.mesh is not None
    points = astronaut_face.mesh.points.copy()
    open_ear = eye_aspect_ratio(points)
    for p1, p2, p3, p4, p5, p6 in EAR_POINTS:
        for lid in (p2, p3, p5, p6):
            t = np.dot(points[lid, :2] - points[p1, :2], points[p4, :2] - points[p1, :2])
            t /= float(np.sum((points[p4, :2] - points[p1, :2]) ** 2))
            foot = points[p1, :2] + t * (points[p4, :2] - points[p1, :2])
            points[lid, :2] = foot + 0.2 * (points[lid, :2] - foot)
    closed_ear = eye_aspect_ratio(points)
    for before, after in zip(open_ear, closed_ear, strict=True):
        assert after < 0.5 * before
        assert after < 0.15  # a usual "closed" threshold


@pytest.mark.lfw
@pytest.mark.parametrize("with_iris", [False, True])
def test_ear_is_low_on_a_real_squint(
    analyzer: FaceAnalyzer, astronaut: Image, with_iris: bool
) -> None:
    (squinting,) = analyzer.analyze(_lfw(SQUINTING), max_faces=1, with_iris=with_iris)
    (smiling,) = analyzer.analyze(astronaut, with_iris=with_iris)
    assert squinting.mesh is not None and smiling.mesh is not None
    squint = np.mean(eye_aspect_ratio(squinting.mesh.points))
    assert squint < 0.2 < np.mean(eye_aspect_ratio(smiling.mesh.points))


@pytest.mark.lfw
@pytest.mark.parametrize(("name", "sign"), [(TURNED_TO_THEIR_LEFT, 1), (TURNED_TO_THEIR_RIGHT, -1)])
def test_yaw_sign_flips_with_the_image(analyzer: FaceAnalyzer, name: str, sign: int) -> None:
    image = _lfw(name)
    seen, mirrored = _pose(analyzer, image), _pose(analyzer, image[:, ::-1])
    assert sign * seen.yaw_deg > 20.0
    assert sign * mirrored.yaw_deg < -20.0
    assert abs(seen.yaw_deg + mirrored.yaw_deg) < 8.0
    assert abs(seen.pitch_deg - mirrored.pitch_deg) < 6.0


def test_frontal_face_reads_near_zero(astronaut_face: FaceObservation) -> None:
    pose = astronaut_face.pose
    assert pose is not None
    assert abs(pose.yaw_deg) < 8.0 and abs(pose.pitch_deg) < 15.0 and abs(pose.roll_deg) < 8.0


@pytest.mark.parametrize("degrees", [-20.0, 20.0])
def test_roll_follows_in_plane_rotation(
    analyzer: FaceAnalyzer, astronaut: Image, astronaut_face: FaceObservation, degrees: float
) -> None:
    assert astronaut_face.pose is not None
    turned = rotate(astronaut, degrees)  # counter-clockwise on screen for positive degrees
    pose = _pose(analyzer, turned)
    assert pose.roll_deg == pytest.approx(astronaut_face.pose.roll_deg - degrees, abs=3.0)
    assert abs(pose.yaw_deg - astronaut_face.pose.yaw_deg) < 5.0
    mirrored = _pose(analyzer, turned[:, ::-1])
    assert np.sign(mirrored.roll_deg) == -np.sign(pose.roll_deg)
    assert abs(mirrored.roll_deg + pose.roll_deg) < 6.0


def test_head_pose_is_pure_geometry(astronaut_face: FaceObservation) -> None:
    assert astronaut_face.mesh is not None
    points = astronaut_face.mesh.points.copy()
    flat = points.copy()
    flat[:, 2] = 0.0  # no depth: the face plane faces the camera
    pose = head_pose(flat, pitch_offset_deg=0.0)
    assert abs(pose.yaw_deg) < 1e-6 and abs(pose.pitch_deg) < 1e-6
    assert head_pose(points) == head_pose(points.copy())
