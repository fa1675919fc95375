"""Quality gates on scikit-image's astronaut (always available), and the pure geometry gates."""

from __future__ import annotations

import numpy as np
import pytest
from quality_support import report_of
from skimage import data

from device.session.degrade import DEGRADATIONS
from device.session.settings import QualitySettings
from device.vision import quality as q
from device.vision.types import Box, HeadPose


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """The portrait cropped so that the face sits in the guide oval (it is high in the frame)."""
    return np.ascontiguousarray(data.astronaut()[0:250, 100:350])


def test_astronaut_passes_every_gate(analyzer, settings, astronaut):
    assert report_of(analyzer, astronaut, settings).issues == ()


@pytest.mark.parametrize(
    "degradation",
    ["dark", "backlit", "blurred", "off_centre", "rotated", "sunglasses", "mask", "hat"],
)
def test_astronaut_degradations(analyzer, settings, astronaut, degradation):
    (face,) = analyzer.analyze(astronaut)
    degrade, code = DEGRADATIONS[degradation]
    assert code in report_of(analyzer, degrade(astronaut, face), settings).issues


def test_no_face_in_a_landscape(analyzer, settings):
    assert report_of(analyzer, np.ascontiguousarray(data.coffee()), settings).issues == ("no_face",)


S = QualitySettings()


@pytest.mark.parametrize(
    ("box", "code", "ok"),
    [
        (Box(270, 190, 370, 290), "too_close", True),
        (Box(280, 200, 340, 260), "too_far", False),
        (Box(20, 0, 620, 480), "too_close", False),
    ],
)
def test_size(box, code, ok):
    check = q.check_size(box, 640, S)
    assert (check.code, check.ok) == (code, ok)


@pytest.mark.parametrize(
    ("centre", "ok"),
    [((320, 240), True), ((360, 270), True), ((520, 240), False), ((320, 60), False)],
)
def test_centre(centre, ok):
    x, y = centre
    assert q.check_centre(Box(x - 60, y - 60, x + 60, y + 60), (640, 480), S).ok is ok


@pytest.mark.parametrize(
    ("pose", "fails"),
    [
        (HeadPose(0, 0, 0), set()),
        (HeadPose(30, 0, 0), {"head_turned"}),
        (HeadPose(-30, 0, 0), {"head_turned"}),
        (HeadPose(0, 25, 0), {"head_pitched"}),
        (HeadPose(0, 0, -20), {"head_tilted"}),
        (HeadPose(40, -30, 20), {"head_turned", "head_pitched", "head_tilted"}),
    ],
)
def test_pose(pose, fails):
    assert {c.code for c in q.check_pose(pose, S) if not c.ok} == fails


@pytest.mark.parametrize(
    ("face_y", "background_y", "codes"),
    [(120, 100, set()), (30, 40, {"too_dark"}), (230, 200, {"too_bright"}), (70, 240, {"backlit"})],
)
def test_exposure_and_backlight(face_y, background_y, codes):
    checks = [q.check_exposure(face_y, S), q.check_backlight(face_y, background_y, S)]
    assert {c.code for c in checks if not c.ok} == codes


def test_frame_score_prefers_sharp_frontal_large_faces():
    frontal = q.frame_score(600.0, HeadPose(0, 0, 0), 240.0, S)
    turned = q.frame_score(600.0, HeadPose(20, 0, 0), 240.0, S)
    soft = q.frame_score(200.0, HeadPose(0, 0, 0), 240.0, S)
    small = q.frame_score(600.0, HeadPose(0, 0, 0), 90.0, S)
    assert frontal == pytest.approx(3.0)
    assert frontal > max(turned, soft, small)
