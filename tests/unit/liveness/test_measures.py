"""Per-frame measures on the real face mesh: eye aspect ratio, yaw sign, nod, mouth."""

from __future__ import annotations

from device.liveness.challenge import action_levels, baseline_of
from device.liveness.measures import FaceMeasures, measure
from device.liveness.scenes import ACTION_POSES, FaceSource
from device.liveness.settings import LivenessSettings
from device.liveness.synth import Pose, close_eyes, render_pose
from device.vision.analyzer import FaceAnalyzer
from device.vision.geometry import eye_aspect_ratio


def test_eye_aspect_ratio_open_vs_closed_eyes(astronaut: FaceSource) -> None:
    """On the real mesh of an open-eyed face, and the same mesh with the lids closed."""
    open_right, open_left = eye_aspect_ratio(astronaut.mesh)
    closed_right, closed_left = eye_aspect_ratio(close_eyes(astronaut.mesh, 1.0))
    assert min(open_right, open_left) > 0.18
    assert max(closed_right, closed_left) < 0.15
    settings = LivenessSettings()
    base = baseline_of([_fake(open_right, open_left)])
    assert action_levels(_fake(closed_right, closed_left), base, settings)["blink"] >= 1.0


def _fake(right: float, left: float) -> FaceMeasures:
    return FaceMeasures((right + left) / 2, 40.0, 0.05, 0.0, 0.0)


def _levels(analyzer: FaceAnalyzer, source: FaceSource, pose: Pose) -> dict[str, float]:
    base = measure(source.rgb, analyzer.analyze(source.rgb)[0])
    rgb, _ = render_pose(source.rgb, source.warper, pose)
    seen = measure(rgb, analyzer.analyze(rgb)[0])
    assert base is not None and seen is not None
    return action_levels(seen, baseline_of([base]), LivenessSettings())


def test_yaw_sign_left_vs_right_turn(analyzer: FaceAnalyzer, astronaut: FaceSource) -> None:
    left = _levels(analyzer, astronaut, ACTION_POSES["liveness_turn_left"])
    right = _levels(analyzer, astronaut, ACTION_POSES["liveness_turn_right"])
    assert left["turn_left"] >= 1.0 and left["turn_right"] < 0
    assert right["turn_right"] >= 1.0 and right["turn_left"] < 0


def test_nod_reads_as_nod_not_turn(analyzer: FaceAnalyzer, astronaut: FaceSource) -> None:
    levels = _levels(analyzer, astronaut, ACTION_POSES["liveness_nod"])
    assert levels["nod"] >= 1.0
    assert abs(levels["turn_left"]) < 0.5
