"""BlazeFace decoding on real models: anchors, letterbox mapping, weighted NMS, the astronaut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from device.vision.detect import (
    FULL_RANGE,
    LAYOUTS,
    SHORT_RANGE,
    FaceDetector,
    letterbox,
    weighted_nms,
)
from device.vision.models import Manifest
from device.vision.types import Detection
from tests.support.vision import ASTRONAUT_FACE_BOX

Image = npt.NDArray[np.uint8]
TOLERANCE_PX = 8.0


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def detector(request: pytest.FixtureRequest, models_dir: Path) -> FaceDetector:
    manifest = Manifest.load(models_dir)
    entry = manifest.find(task="detect", variant=request.param)
    return FaceDetector(manifest.open(entry, 1), LAYOUTS[request.param], min_score=0.6)


def test_anchor_grids_match_the_models() -> None:
    short = SHORT_RANGE.centres()
    assert short.shape == (896, 2)
    np.testing.assert_allclose(short[:2], [[0.5 / 16, 0.5 / 16]] * 2)
    np.testing.assert_allclose(short[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    full = FULL_RANGE.centres()
    assert full.shape == (2304, 2)
    np.testing.assert_allclose(full[1], [1.5 / 48, 0.5 / 48])


def _assert_astronaut(found: list[Detection], dx: float = 0.0, dy: float = 0.0) -> None:
    assert len(found) == 1, [d.score for d in found]
    box = found[0].box
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    # The full-range model draws a taller box (forehead): compare centres and widths.
    assert abs(box.center[0] - ((x0 + x1) / 2 + dx)) < TOLERANCE_PX
    assert abs(box.center[1] - ((y0 + y1) / 2 + dy)) < 2 * TOLERANCE_PX
    assert abs(box.width - (x1 - x0)) < 2 * TOLERANCE_PX
    keypoints = found[0].keypoints
    assert keypoints.shape == (6, 2)
    assert keypoints[0, 0] < keypoints[2, 0] < keypoints[1, 0]  # right eye, nose, left eye
    assert keypoints[:2, 1].max() < keypoints[2, 1] < keypoints[3, 1]  # eyes, nose, mouth


def test_finds_the_one_face_in_the_astronaut(detector: FaceDetector, astronaut: Image) -> None:
    found = detector.detect(astronaut)
    _assert_astronaut(found)
    assert found[0].score > 0.85


def test_boxes_map_back_through_the_letterbox(detector: FaceDetector, astronaut: Image) -> None:
    # Short range loses faces narrower than about a sixth of the frame's longer side: keep the
    # canvas small enough (the kiosk frames faces at close range).
    canvas = np.full((600, 680, 3), 255, dtype=np.uint8)
    canvas[60 : 60 + 512, 150 : 150 + 512] = astronaut
    _assert_astronaut(detector.detect(canvas), dx=150.0, dy=60.0)


def test_two_faces_sorted_by_score(detector: FaceDetector, astronaut: Image) -> None:
    crop = astronaut[20:270, 100:350]
    pair = np.hstack([crop, np.ascontiguousarray(crop[:, ::-1])])  # the second one mirrored
    found = detector.detect(pair)
    assert len(found) == 2
    assert found[0].score >= found[1].score
    assert sorted(d.box.center[0] < 250 for d in found) == [False, True]


def test_no_face_in_a_blank_frame(detector: FaceDetector) -> None:
    assert detector.detect(np.full((480, 640, 3), 128, dtype=np.uint8)) == []


def test_letterbox_keeps_aspect_and_centres() -> None:
    frame = np.full((100, 200, 3), 200, dtype=np.uint8)
    square, box = letterbox(frame, 128)
    assert square.shape == (128, 128, 3)
    assert box.scale == pytest.approx(0.64)
    assert (box.pad_x, box.pad_y) == (0.0, 32.0)
    assert square[31, 64].tolist() == [0, 0, 0] and square[32, 64].tolist() == [200] * 3
    np.testing.assert_allclose(box.to_frame(np.array([[64.0, 64.0]], np.float32)), [[100, 50]])


def test_weighted_nms_blends_overlaps_and_keeps_separate_faces() -> None:
    rows = np.zeros((3, 16), dtype=np.float32)
    rows[0, :4] = [0, 0, 10, 10]
    rows[1, :4] = [2, 0, 12, 10]
    rows[2, :4] = [50, 50, 60, 60]
    scores = np.array([0.6, 0.9, 0.7], dtype=np.float32)
    kept = weighted_nms(rows, scores, min_iou=0.3)
    assert [round(s, 2) for _, s in kept] == [0.9, 0.7]
    np.testing.assert_allclose(kept[0][0][:4], [1.2, 0, 11.2, 10], atol=1e-5)
    np.testing.assert_allclose(kept[1][0][:4], [50, 50, 60, 60])
