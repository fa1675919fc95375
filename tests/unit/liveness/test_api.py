"""LivenessProbe end to end on short synthetic sessions with the real analyzer, messages, and the
anti-spoofing slot report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device.camera.base import Frame
from device.liveness.antispoof import selftest_report
from device.liveness.api import LivenessProbe
from device.liveness.evaluate import CAVEAT, Chunk, report, run_chunk
from device.liveness.harness import PRODUCTION, prompt_of
from device.liveness.messages import action_prompt, catalogue
from device.liveness.settings import ALL_ACTIONS, LivenessSettings
from device.messages import catalogue as all_messages

ROOT = Path(__file__).resolve().parents[3]
EVAL = LivenessSettings(actions=["turn_left", "turn_right", "nod", "open_mouth"])


def test_prompts_follow_the_contract() -> None:
    probe = LivenessProbe(LivenessSettings(), np.random.default_rng(5))
    probe.begin(100.0)
    first = probe.prompt(100.0)
    assert first is not None and first.code == "liveness_look_at_screen"
    assert first.flash_rgb == probe.colours[0]
    assert first.countdown_s == pytest.approx(len(probe.colours) * 0.3)
    assert probe.verdict(100.5) is None
    blank = np.zeros((240, 320, 3), np.uint8)
    probe.observe(Frame(blank, 0, 100.5), None, None, 100.5)
    assert probe.verdict(100.6) is None


def test_no_face_at_all_is_inconclusive_not_live() -> None:
    probe = LivenessProbe(LivenessSettings(screen_flash=False), np.random.default_rng(1))
    probe.begin(0.0)
    prompt = probe.prompt(0.0)
    assert prompt is not None and prompt.code == "liveness_hold_still" and prompt.flash_rgb is None
    blank = np.zeros((240, 320, 3), np.uint8)
    verdict = None
    for step in range(40):
        probe.observe(Frame(blank, step, step / 10), None, None, step / 10)
        verdict = probe.verdict(step / 10)
        if verdict:
            break
    assert verdict is not None and verdict.outcome == "inconclusive"
    assert probe.prompt(5.0) is None


def test_every_code_has_both_languages() -> None:
    table = catalogue()
    for action in ALL_ACTIONS:
        assert action_prompt(action) in table and action_prompt(action, clear=True) in table
    for code in ("liveness_try_again", "liveness_second_face", "liveness_turn_left_clear"):
        zh, en = table[code]
        assert zh and en and zh != en
    assert "左手边" in table["liveness_turn_left_clear"][0]
    assert all_messages()["liveness_incomplete"][0]
    for code in ("challenge_wrong_action", "flash_not_reflected", "passive_moire"):
        zh, en = table[code]
        assert zh and en and zh != en
    assert "liveness_turn_left" in all_messages()


def test_selftest_reports_the_antispoof_model_of_the_default_build(tmp_path: Path) -> None:
    report = selftest_report(ROOT / "models")
    assert report["antispoof"] == "active"
    assert str(report["model"]).startswith("antispoof_minifasnet@")
    assert selftest_report(ROOT / "models", enabled=False)["antispoof"] == "installed"
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": 1, "models": []}))
    assert "no passive anti-spoofing model" in str(selftest_report(tmp_path)["detail"])


def test_smoke_synthetic_bona_fide_sessions() -> None:
    """The SYNTHETIC BPCER evaluation in miniature: the bona fide person passes."""
    lfw = ROOT.parent / "shared" / "data" / "lfw-dev" / "images"
    # Without LFW only the astronaut is left, whose mouth the simulator cannot open.
    settings = (
        EVAL if lfw.is_dir() else LivenessSettings(actions=["turn_left", "turn_right", "nod"])
    )
    sessions = (("bona_fide", 11), ("bona_fide", 12))
    chunk = Chunk(sessions, str(ROOT / "models"), str(lfw) if lfw.is_dir() else None, 12,
                  settings.model_dump())  # fmt: skip
    part = run_chunk(chunk)
    result = report(part["rows"], 0.0, settings)
    assert result["caveat"] == CAVEAT and "SYNTHETIC" in CAVEAT
    assert result["bpcer"] == 0.0
    assert result["counts"]["bona_fide"]["sessions"] == 2
    assert "apcer" not in result and "--attacks" in result["attacks"]


def test_the_harness_reads_the_screen_as_a_person_does() -> None:
    assert (PRODUCTION.width, PRODUCTION.height, PRODUCTION.fps) == (640, 480, 15.0)
    view = {"code": "liveness_look_at_screen", "countdown_s": 1.5, "flash_rgb": [255, 0, 0]}
    prompt = prompt_of(view)
    assert prompt is not None and prompt.code == "liveness_look_at_screen"
    assert prompt.flash_rgb == (255, 0, 0) and prompt.countdown_s == 1.5
    assert prompt_of(None) is None and prompt_of({"code": None}) is None


def test_the_iris_is_asked_for_only_while_an_eye_is_measured(analyzer, astronaut) -> None:
    face = analyzer.analyze(astronaut.rgb)[0]
    frame = Frame(astronaut.rgb, 0, 0.0)
    other = LivenessProbe(LivenessSettings(actions=["nod", "open_mouth"], screen_flash=False),
                          np.random.default_rng(3))  # fmt: skip
    other.begin(0.0)
    assert not other.needs_eyes(0.0)  # no blink asked: the eyes are never read
    settings = LivenessSettings(actions=["blink", "open_mouth"], actions_min=1, actions_max=1,
                                screen_flash=False, hold_min_s=1.0, hold_max_s=1.0)  # fmt: skip
    probe = next(p for seed in range(50) if (p := _begun(settings, seed)).actions == ("blink",))
    assert not LivenessProbe(settings, np.random.default_rng(0)).needs_eyes(0.0)  # not begun
    asked = []
    for step in range(40):  # a still face: baseline 1.2 s, hold 1.0 s, then the blink window
        now = step / 10
        asked.append(probe.needs_eyes(now))
        probe.observe(frame, face, None, now)
    assert all(asked[:12])  # the neutral eyes of the first phase
    assert not any(asked[13:22])  # holding still before the prompt
    asked_from = asked.index(True, 22)  # the window opens once the face is steady and ready
    assert all(asked[asked_from:])  # from then on the blink is asked


def _begun(settings: LivenessSettings, seed: int) -> LivenessProbe:
    probe = LivenessProbe(settings, np.random.default_rng(seed))
    probe.begin(0.0)
    return probe


def test_a_second_face_freezes_the_attempt_and_asks_the_helper_to_step_out() -> None:
    probe = LivenessProbe(LivenessSettings(screen_flash=False), np.random.default_rng(1))
    probe.begin(0.0)
    blank = np.zeros((240, 320, 3), np.uint8)
    probe.observe(Frame(blank, 0, 0.2), None, None, 0.2)
    for step in range(50):  # 10 s with a helper in view: nothing runs out
        now = 0.4 + step * 0.2
        probe.observe(Frame(blank, step, now), None, None, now, crowded=True)
        prompt = probe.prompt(now)
        assert prompt is not None and prompt.code == "liveness_second_face" and prompt.paused
        assert probe.verdict(now) is None
    probe.observe(Frame(blank, 60, 10.4), None, None, 10.4)
    first = probe.prompt(10.4)
    assert first is not None and first.code == "liveness_hold_still"
    # 0.4 s of the 1.2 s first phase were used before the pause: 0.8 s remain after it.
    assert first.countdown_s == pytest.approx(1.2 - 0.2 - (10.4 - 10.2), abs=0.05)
    assert probe.verdict(10.9) is None and probe.verdict(11.5) is not None
