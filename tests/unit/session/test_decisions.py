"""The session's pure decisions: acceptance, the record's liveness score, the screen views."""

from __future__ import annotations

import pytest

from device.liveness.api import LivenessVerdict, Prompt
from device.match.matcher import MatchResult
from device.messages import catalogue
from device.session import machine as m
from device.session.decisions import (
    Acceptance,
    accept,
    liveness_outcome,
    liveness_score,
    prompt_key,
    prompt_view,
    show_view,
)
from device.ui.views import KEYS, prepare


def result(accepted: bool, score: float) -> MatchResult:
    return MatchResult(accepted, score, 0.4, 3, (score,) * 3)


@pytest.mark.parametrize(
    ("capture", "during", "expected"),
    [
        (result(True, 0.7), None, Acceptance(True, 0.7)),
        (result(False, 0.2), None, Acceptance(False, 0.2)),
        (result(True, 0.7), result(True, 0.6), Acceptance(True, 0.6)),
        (result(True, 0.7), result(False, 0.1), Acceptance(False, 0.1)),  # a stranger acted
        (result(False, 0.3), result(True, 0.8), Acceptance(False, 0.3)),  # a photo captured
    ],
)
def test_both_the_capture_and_the_liveness_frames_must_match(capture, during, expected):
    assert accept(capture, during) == expected


def test_the_record_carries_the_probes_own_liveness_score():
    # The weakest cue here is the flash correlation, which the runner's own minimum ignored.
    scores = {"challenge_done": 1.0, "passive": 0.9, "flash_correlation": 0.2, "liveness": 0.2}
    assert liveness_score(LivenessVerdict("live", (), scores)) == 0.2
    assert liveness_score(LivenessVerdict("inconclusive", ())) is None


def test_unknown_outcomes_are_inconclusive():
    assert [liveness_outcome(LivenessVerdict(o, ())) for o in ("live", "spoof", "odd")] == [
        "live", "spoof", "inconclusive"]


def test_views_have_every_key_and_pass_the_ui_contract():
    texts = catalogue()
    views = [
        show_view(m.Show("idle", "id_invalid"), texts),
        show_view(m.Show("guiding", "hold_still", countdown_s=12.345, progress=0.4), texts),
        show_view(m.Show("decided", "fail", decision="fail", reasons=("match",)), texts),
        prompt_view(Prompt("liveness_blink", 4.0), texts),
        prompt_view(Prompt("liveness_hold_still", 0.5, (255, 0, 0)), texts),
    ]
    for view in views:
        assert tuple(view) == KEYS
        prepare(view, {})
    assert views[0]["zh"] == texts["id_invalid"][0] and views[0]["progress"] is None
    assert views[1]["countdown_s"] == 12.3
    assert views[2]["result"] == {"decision": "fail", "reasons": ["match"]}
    assert (views[3]["state"], views[4]["state"], views[4]["flash_rgb"]) == (
        "challenge", "flash", [255, 0, 0])


def test_a_prompt_is_new_when_its_code_colour_or_whole_second_changes():
    assert prompt_key(Prompt("a", 3.9)) == prompt_key(Prompt("a", 3.1))
    assert prompt_key(Prompt("a", 3.9)) != prompt_key(Prompt("a", 2.9))
    assert prompt_key(Prompt("a", 1.0, (1, 2, 3))) != prompt_key(Prompt("a", 1.0))


def test_matching_has_no_timeout():
    rules = m.Rules(capture_frames=1, liveness_enabled=False)
    s, _ = m.step(m.Session(), m.Identify(0.0, "11010519491231002X", True), rules)
    s, _ = m.step(s, m.FrameChecked(1.0), rules)
    assert s.phase is m.Phase.MATCHING
    s, effects = m.step(s, m.Tick(1e6), rules)
    assert s.phase is m.Phase.MATCHING and effects == ()
    assert "match_timeout" not in catalogue()


def test_a_clearer_turn_cue_carries_the_mirrored_arrow_and_the_slow_flag():
    table = catalogue()
    cue = Prompt("liveness_turn_left_clear", 7.5, step=1, steps=2, arrow="left", clear=True,
                 repeat=1)  # fmt: skip
    view = prompt_view(cue, table, slow=True)
    assert view["slow"] is True and "左手边" in view["zh"] and "left hand side" in view["en"]
    assert view["guide"] == {"arrow": "left", "mirror_arrow": True, "clear": True, "repeat": 1,
                             "paused": False}  # fmt: skip
    assert prepare(view, table)["guide"]["mirror_arrow"] is True
    waiting = prompt_view(Prompt("liveness_try_again", None, clear=True), table)
    assert waiting["countdown_s"] is None and waiting["guide"]["arrow"] is None
    assert prompt_key(cue) != prompt_key(Prompt("liveness_turn_left_clear", 7.5, arrow="left",
                                                clear=True, repeat=2))  # fmt: skip
    with pytest.raises(ValueError, match="guide"):
        prepare({**view, "guide": {"arrow": "up"}}, table)
    assert show_view(m.Show("guiding", "hold_still"), table, slow=True)["slow"] is True
