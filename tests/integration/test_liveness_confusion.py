"""Confusion is not an attack, on real footage through the production loop
(device/liveness/harness.py: the SessionRunner at 640x480, 15 fps, iris, one face, embeddings).

The woman of the footage (device/liveness/puppet.py) turns the wrong way at the first turn
prompt: her real turn to her right when asked to turn left. The probe re-prompts with the
clearer cue ("your left hand side", the mirrored arrow); she then turns left (the mirrored
footage, where the same real movement goes the other way) and the whole session passes. And a
second face (the man of single_face.mp4, real footage pasted beside her, a helper leaning in)
pauses the challenge instead of failing it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.liveness.api import Prompt
from device.liveness.footage import decode, load_labels
from device.liveness.harness import Bench
from device.liveness.messages import prompt_action
from device.liveness.puppet import SUBJECTS, Footage, Image, Puppet
from device.liveness.settings import LivenessSettings
from device.vision.analyzer import FaceAnalyzer
from tests.support.footage import LABELS, footage_dir

ROOT = Path(__file__).resolve().parents[2]


class TurnsTheWrongWayFirst:
    """The mirrored woman (who turns left), except at the first turn prompt, which the plain
    woman (who can only turn right) answers, until the clearer re-prompt; `stubborn`: every
    plain turn prompt is answered the wrong way."""

    def __init__(self, plain: Puppet, mirrored: Puppet, stubborn: bool = False) -> None:
        self.plain, self.mirrored, self.stubborn = plain, mirrored, stubborn
        self.current = mirrored
        self.cues: list[tuple[str, bool, str | None]] = []

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        code = prompt.code if prompt is not None else None
        if prompt is not None and (not self.cues or self.cues[-1][0] != code):
            self.cues.append((prompt.code, prompt.clear, prompt.arrow))
            wrong = code == "liveness_turn_left" or (self.stubborn and prompt_action(code))
            self.current = self.plain if wrong else self.mirrored
        if self.current is self.plain and prompt_action(code) == "turn_left":
            prompt = dataclasses.replace(prompt, code="liveness_turn_right")
        return self.current.frame(prompt, now_s)


class HelperLeansIn:
    """The puppet, and from 0.2 s after the first action prompt for `seconds` another real
    face in the upper left corner of the picture."""

    def __init__(self, puppet: Puppet, helper: Image, seconds: float) -> None:
        self.puppet, self.helper, self.seconds = puppet, helper, seconds
        self.first_action_s: float | None = None

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        rgb = self.puppet.frame(prompt, now_s)
        if self.first_action_s is None and prompt is not None and prompt_action(prompt.code):
            self.first_action_s = now_s
        start = None if self.first_action_s is None else self.first_action_s + 0.2
        if start is not None and start <= now_s < start + self.seconds:
            rgb = rgb.copy()
            height, width = self.helper.shape[:2]
            rgb[10:10 + height, 10:10 + width] = self.helper
        return rgb


@pytest.fixture(scope="module")
def bench() -> Bench:
    return Bench.load(ROOT / "models", LivenessSettings())


@pytest.fixture(scope="module")
def women(bench: Bench) -> tuple[Footage, Footage]:
    return (Footage(SUBJECTS[0], footage_dir(), bench.analyzer),
            Footage(SUBJECTS[1], footage_dir(), bench.analyzer))  # fmt: skip


def helper_face(analyzer: FaceAnalyzer) -> Image:
    """The man's face from single_face.mp4 with some margin, 150 px wide."""
    rgb = decode(footage_dir() / "single_face.mp4")[5]
    box = analyzer.analyze(rgb, max_faces=1)[0].detection.box
    cx, cy, side = box.center[0], box.center[1], box.width * 1.6
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    crop = rgb[y0:y0 + int(side), x0:x0 + int(side)]
    return np.ascontiguousarray(cv2.resize(crop, (150, 150)), dtype=np.uint8)


@pytest.mark.parametrize("seed", [3, 8])
def test_a_wrong_turn_is_re_prompted_and_the_corrected_turn_passes(
    bench: Bench, women: tuple[Footage, Footage], seed: int
) -> None:
    plain, mirrored = women
    fps = load_labels(LABELS)[plain.subject.clip].fps
    bench.liveness = LivenessSettings(actions=["turn_left", "blink"])
    scene = TurnsTheWrongWayFirst(Puppet(plain, fps, np.random.default_rng(seed)),
                                  Puppet(mirrored, fps, np.random.default_rng(seed + 1)))
    result = bench.run(scene, seed, mirrored.frame(mirrored.subject.enrol_frame))
    assert result.verdict is not None and "turn_left" in result.actions
    assert result.verdict.outcome == "live", result.verdict
    assert result.verdict.retry_guidance == 1
    assert result.decision == "pass" and result.record["challenge"]["retry_guidance"] == 1
    # The re-prompt names the side: the clearer cue with the arrow to her left.
    assert ("liveness_turn_left_clear", True, "left") in scene.cues
    assert ("liveness_turn_left", False, "left") in scene.cues
    assert "liveness_spoof" not in result.reasons


def test_confusion_alone_never_makes_a_spoof(bench: Bench, women: tuple[Footage, Footage]) -> None:
    """She keeps turning the wrong way: the attempt ends incomplete, not as an attack."""
    plain, mirrored = women
    fps = load_labels(LABELS)[plain.subject.clip].fps
    bench.liveness = LivenessSettings(actions=["turn_left", "blink"], max_reprompts=1)
    stubborn = TurnsTheWrongWayFirst(Puppet(plain, fps, np.random.default_rng(5)),
                                     Puppet(mirrored, fps, np.random.default_rng(6)), True)
    result = bench.run(stubborn, 5, mirrored.frame(mirrored.subject.enrol_frame))
    assert result.verdict is not None and result.verdict.outcome == "inconclusive"
    # A wrong turn seen clearly, or (a small one) the window running out: both incomplete.
    assert set(result.verdict.reasons) <= {"challenge_wrong_action", "challenge_timeout"}
    assert result.verdict.retry_guidance == 1 and result.verdict.failed == ("turn_left",)
    assert result.decision == "refer"  # the bench allows one attempt
    assert result.reasons[0] == "liveness_incomplete" and "liveness_spoof" not in result.reasons


def test_a_second_face_pauses_the_challenge_instead_of_failing_it(
    bench: Bench, women: tuple[Footage, Footage]
) -> None:
    plain, _ = women
    fps = load_labels(LABELS)[plain.subject.clip].fps
    bench.liveness = LivenessSettings(actions=list(plain.subject.actions()), screen_flash=False)
    helper = helper_face(bench.analyzer)
    scene = HelperLeansIn(Puppet(plain, fps, np.random.default_rng(2)), helper, 2.5)
    result = bench.run(scene, 2, plain.frame(plain.subject.enrol_frame))
    assert scene.first_action_s is not None
    assert result.verdict is not None and result.verdict.outcome == "live", result.verdict
    assert result.verdict.pauses == 1 and result.record["challenge"]["second_face_pauses"] == 1
    assert result.decision == "pass"
