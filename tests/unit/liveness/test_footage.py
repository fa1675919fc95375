"""The footage label file and its loader, the puppet's cuts against the labels, and the 3-D
check's residual on real footage frames and on planar prints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device.errors import ConfigError
from device.liveness.footage import ACTIONS, load_labels
from device.liveness.planar import PlanarCheck, planar_residual, plane_homography, plane_view
from device.liveness.puppet import SUBJECTS, Cut, Footage, Subject, check, seen_as
from device.liveness.settings import LivenessSettings
from device.vision.analyzer import FaceAnalyzer
from tests.support.footage import LABELS, footage_dir

THRESHOLD = LivenessSettings().planar_max_residual


def test_the_committed_labels_load_and_cover_every_clip_and_action() -> None:
    clips = load_labels(LABELS)
    assert set(clips) == {"single_face.mp4", "WolfgangLanger_Pexels.mp4", "face_noface.mov",
                          "noface_face.mov", "no_face.mp4"}  # fmt: skip
    woman = clips["WolfgangLanger_Pexels.mp4"]
    assert woman.frames == 472 and abs(woman.fps - 23.976) < 1e-3
    assert len(woman.of("blink")) == 6 and woman.labelled(248, "blink")
    assert not woman.labelled(270, "blink") and woman.labelled(100, "occlusion")
    assert all(clips["no_face.mp4"].labelled(i, "no_face") for i in range(95))
    seen = {e.action for c in clips.values() for e in c.events}
    assert set(ACTIONS) <= seen
    # 15 fps sampling of a 23.976 fps clip: real time, never past the last frame.
    indices = woman.resampled(15.0)
    assert len(indices) == 295 and indices[-1] <= 471 and indices[15] == 23


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "wink"}, "unknown label"),
        ({"start": 400, "end": 500}, "outside"),
        ({"start": 9, "end": 3}, "outside"),
        ({"extra": 1}, "bad event"),
    ],
)
def test_malformed_labels_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    event = {"action": "blink", "start": 1, "end": 3, **change}
    doc = {"schema": 1, "clips": {"a.mp4": {"fps": 30, "frames": 72, "person": "x",
                                            "events": [event]}}}  # fmt: skip
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=message):
        load_labels(path)


def test_a_clip_without_its_frame_rate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"schema": 1, "clips": {"a.mp4": {"frames": 3, "events": []}}}))
    with pytest.raises(ConfigError, match="exactly fps"):
        load_labels(path)


def test_every_puppet_cut_plays_a_labelled_event_of_its_action() -> None:
    clips = load_labels(LABELS)
    for subject in SUBJECTS:
        check(subject, clips[subject.clip])
    assert seen_as("turn_left", backwards=True, mirror=False) == "turn_right"
    assert seen_as("turn_left", backwards=True, mirror=True) == "turn_left"
    bad = Subject("x", "WolfgangLanger_Pexels.mp4", (253, 285), 270,
                  (Cut("turn_left", (222, 236), 236, 190),))  # fmt: skip
    with pytest.raises(ConfigError, match="plays no labelled"):
        check(bad, clips[bad.clip])


def test_points_on_one_plane_have_no_residual_and_a_head_shape_has() -> None:
    rng = np.random.default_rng(3)
    flat = np.column_stack([rng.uniform(200, 440, 468), rng.uniform(120, 360, 468),
                            np.zeros(468)]).astype(np.float32)  # fmt: skip
    matrix = plane_homography((640, 480), 35.0, 10.0, 600.0, 600.0)
    xy = np.column_stack([flat[:, :2], np.ones(468)]) @ matrix.T
    turned = np.column_stack([xy[:, :2] / xy[:, 2:], np.zeros(468)]).astype(np.float32)
    flat[[33, 133], :2], flat[[362, 263], :2] = [[260, 200]] * 2, [[380, 200]] * 2
    turned[[33, 133], :2], turned[[362, 263], :2] = [[260, 200]] * 2, [[380, 200]] * 2
    others = [i for i in range(468) if i not in (33, 133, 362, 263)]  # eye corners: the scale
    assert planar_residual(flat, turned, others) < 1e-4
    bumped = turned.copy()
    bumped[:100, 0] += 12.0  # part of the "face" moved against the rest: parallax
    assert planar_residual(flat, bumped, others) > 0.03


def _residual(analyzer: FaceAnalyzer, frames: list[np.ndarray]) -> float | None:
    check_ = PlanarCheck()
    for index, rgb in enumerate(frames):
        faces = analyzer.analyze(rgb, with_iris=True, max_faces=2)
        mesh = faces[0].mesh.points if faces and faces[0].mesh is not None else None
        check_.observe(0, True, 2.0 if index == len(frames) - 1 else 0.0, rgb, mesh)
    check_.finish()
    return check_.residuals[0] if check_.residuals else None


def test_a_real_head_turn_is_not_planar_and_a_turned_print_is(analyzer: FaceAnalyzer) -> None:
    woman = Footage(SUBJECTS[0], footage_dir(), analyzer)
    turn = [woman.frame(236 - round(i * 23.976 / 15)) for i in range(24)]  # her real turn
    nod = [woman.frame(438 + round(i * 23.976 / 15)) for i in range(9)]  # her head going down
    real = [_residual(analyzer, turn), _residual(analyzer, nod)]
    assert all(r is not None and r > THRESHOLD for r in real), real
    photo = woman.frame(270)
    room = np.full_like(photo, 110)
    for yaw in (30.0, -45.0, 60.0):
        frames = [plane_view(photo, yaw * i / 12, background=room) for i in range(13)]
        flat = _residual(analyzer, frames)
        assert flat is not None and flat < THRESHOLD, (yaw, flat)
