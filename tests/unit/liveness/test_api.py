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
        assert action_prompt(action) in table
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


def test_smoke_one_session_per_type() -> None:
    """The evaluation in miniature: the bona fide person passes, every attack is refused."""
    lfw = ROOT.parent / "shared" / "data" / "lfw-dev" / "images"
    # Without LFW only the astronaut is left, whose mouth the simulator cannot open.
    settings = (
        EVAL if lfw.is_dir() else LivenessSettings(actions=["turn_left", "turn_right", "nod"])
    )
    sessions = (("bona_fide", 11), ("photo", 12), ("screen", 13), ("replay", 14), ("cutout", 15))
    chunk = Chunk(sessions, str(ROOT / "models"), str(lfw) if lfw.is_dir() else None, 12,
                  settings.model_dump())  # fmt: skip
    part = run_chunk(chunk)
    result = report(part["rows"], 0.0, settings)
    assert result["caveat"] == CAVEAT and "SYNTHETIC" in CAVEAT
    assert result["bpcer"] == 0.0
    assert result["apcer"] == {"photo": 0.0, "screen": 0.0, "replay": 0.0, "cutout": 0.0}


def test_the_harness_reads_the_screen_as_a_person_does() -> None:
    assert (PRODUCTION.width, PRODUCTION.height, PRODUCTION.fps) == (640, 480, 15.0)
    view = {"code": "liveness_look_at_screen", "countdown_s": 1.5, "flash_rgb": [255, 0, 0]}
    prompt = prompt_of(view)
    assert prompt is not None and prompt.code == "liveness_look_at_screen"
    assert prompt.flash_rgb == (255, 0, 0) and prompt.countdown_s == 1.5
    assert prompt_of(None) is None and prompt_of({"code": None}) is None


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
