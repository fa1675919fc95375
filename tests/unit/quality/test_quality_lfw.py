"""Every quality gate on real faces: lfw-dev images and degraded copies of them.

Good images must pass every gate; each degradation must fire its own guidance code. The
thresholds and their measurements over all of lfw-dev are in device/session/settings.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from quality_support import lfw_image, report_of

from device.session.degrade import DEGRADATIONS
from device.vision.align import five_points
from device.vision.quality import assess, check_still

GOOD = [
    "Al_Sharpton_0001",
    "Abel_Pacheco_0001",
    "Adam_Sandler_0001",
    "Aicha_El_Ouafi_0001",
    "Amelia_Vega_0001",
    "Bill_Gates_0003",
    "Arnold_Palmer_0001",
    "Bernard_Law_0001",
]
# Real photos with a real problem (found by the gates over lfw-dev, checked by eye).
REAL_PROBLEMS = [
    ("Roseanne_Barr_0002", "eyes_closed"),  # laughing, eyes squeezed shut
    ("Tatiana_Gratcheva_0001", "eyes_closed"),
    ("Pete_Rose_0002", "hat"),  # baseball cap
    ("Tiger_Woods_0016", "hat"),
    ("Brawley_King_0001", "hat"),  # woollen beanie
    ("John_Travolta_0007", "hat"),  # peaked cap
]


@pytest.mark.lfw
@pytest.mark.parametrize("name", GOOD)
def test_good_images_pass_every_gate(analyzer, settings, name):
    report = report_of(analyzer, lfw_image(name), settings)
    assert report.issues == ()
    assert 1.5 < report.score <= 3.0


@pytest.mark.lfw
@pytest.mark.parametrize("degradation", sorted(DEGRADATIONS))
@pytest.mark.parametrize("name", GOOD[:4])
def test_each_degradation_fires_its_code(analyzer, settings, name, degradation):
    rgb = lfw_image(name)
    (face,) = analyzer.analyze(rgb)
    degrade, code = DEGRADATIONS[degradation]
    report = report_of(analyzer, degrade(rgb, face), settings)
    assert code in report.issues, (degradation, report.issues, dict(report.metrics))


@pytest.mark.lfw
@pytest.mark.parametrize(("name", "code"), REAL_PROBLEMS)
def test_real_problem_photos_fire(analyzer, settings, name, code):
    assert code in report_of(analyzer, lfw_image(name), settings).issues


@pytest.mark.lfw
def test_two_people_fire_multiple_faces(analyzer, settings):
    pair = np.hstack([lfw_image("Al_Sharpton_0001"), lfw_image("Bill_Gates_0003")])
    assert report_of(analyzer, pair, settings).issues == ("multiple_faces",)


@pytest.mark.lfw
def test_moving_face_fires_not_still(analyzer, settings):
    rgb = lfw_image("Abel_Pacheco_0001")
    faces = analyzer.analyze(rgb)
    points = five_points(faces[0])
    eye_distance = float(np.linalg.norm(points[1] - points[0]))
    moving = [points + np.float32(i * 0.2 * eye_distance) for i in range(4)]
    still = [points + np.float32(i * 0.005 * eye_distance) for i in range(4)]
    assert not check_still(moving, settings).ok
    assert check_still(still, settings).ok
    from device.vision.align import align_face

    report = assess(rgb, faces, align_face(rgb, points), moving, settings)
    assert report.issues == ("not_still",)
