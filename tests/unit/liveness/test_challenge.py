"""The challenge: random plans, and the tracker on tables of measured frames."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from device.liveness.challenge import POSE_ACTIONS, ChallengeTracker, plan_actions
from device.liveness.measures import FaceMeasures
from device.liveness.settings import ALL_ACTIONS, LivenessSettings

NEUTRAL = FaceMeasures(ear=0.3, eye_contrast=40.0, mouth=0.05, yaw_deg=2.0, pitch_deg=-3.0)
MOVES = {
    "turn_left": FaceMeasures(0.3, 40.0, 0.05, 2.0 + 20.0, -3.0),
    "turn_right": FaceMeasures(0.3, 40.0, 0.05, 2.0 - 20.0, -3.0),
    "nod": FaceMeasures(0.3, 40.0, 0.05, 2.0, -3.0 - 16.0),
    "open_mouth": FaceMeasures(0.3, 40.0, 0.25, 2.0, -3.0),
    "blink": FaceMeasures(0.12, 5.0, 0.05, 2.0, -3.0),
}


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_plans_are_random_without_repeats_and_include_a_head_movement(seed: int) -> None:
    plan = plan_actions(np.random.default_rng(seed), ALL_ACTIONS, 2, 3)
    assert 2 <= len(plan) <= 3
    assert all(a != b for a, b in itertools.pairwise(plan))
    assert any(a in POSE_ACTIONS for a in plan)


def test_plans_differ_between_sessions() -> None:
    plans = {plan_actions(np.random.default_rng(s), ALL_ACTIONS, 2, 3) for s in range(200)}
    assert len(plans) > 30


def _run(
    actions: tuple[str, ...],
    script: list[tuple[float, FaceMeasures | None]],
    s: LivenessSettings | None = None,
) -> ChallengeTracker:
    tracker = ChallengeTracker(actions, s or LivenessSettings(), 0.0)
    for _ in range(5):
        tracker.add_baseline(NEUTRAL)
    assert tracker.start_steps(0.0)
    for now, measures in script:
        tracker.observe(measures, now)
    return tracker


def _answer(actions: list[str], start: float = 0.0) -> list[tuple[float, FaceMeasures | None]]:
    script: list[tuple[float, FaceMeasures | None]] = []
    now = start
    for action in actions:
        script += [(now + 0.1, NEUTRAL), (now + 0.5, MOVES[action]), (now + 0.9, NEUTRAL)]
        now += 1.0
    return script


def test_answering_in_order_passes() -> None:
    tracker = _run(("nod", "turn_left", "open_mouth"), _answer(["nod", "turn_left", "open_mouth"]))
    assert tracker.state.status == "passed"


def test_a_replay_of_another_order_fails_as_wrong_action() -> None:
    tracker = _run(("turn_left", "nod"), _answer(["nod", "turn_left"]))
    assert tracker.state.status == "failed"
    assert tracker.state.reason == "challenge_wrong_action"


def test_answer_before_a_human_could_react_fails() -> None:
    tracker = _run(("turn_right", "nod"), [(0.05, MOVES["turn_right"])])
    assert tracker.state.reason == "challenge_too_early"


def test_a_still_face_times_out() -> None:
    script: list[tuple[float, FaceMeasures | None]] = [(t / 10, NEUTRAL) for t in range(70)]
    tracker = _run(("turn_left", "nod"), script)
    assert tracker.state.status == "timeout"


def test_blinks_never_count_as_a_wrong_action() -> None:
    script = [(0.3, MOVES["blink"]), (0.4, NEUTRAL), *_answer(["turn_left", "nod"], 0.5)]
    assert _run(("turn_left", "nod"), script).state.status == "passed"


def test_baseline_is_per_person() -> None:
    """A person whose neutral head is turned 20 degrees must still turn further."""
    turned = FaceMeasures(0.3, 40.0, 0.05, 22.0, -3.0)
    tracker = ChallengeTracker(("turn_left", "nod"), LivenessSettings(), 0.0)
    for _ in range(5):
        tracker.add_baseline(turned)
    tracker.start_steps(0.0)
    tracker.observe(turned, 0.5)
    assert tracker.state.index == 0 and not tracker.peaked


def test_moving_during_the_random_hold_fails() -> None:
    """The next prompt comes after a random hold; a recording that moves then is caught."""
    tracker = ChallengeTracker(("turn_left", "nod"), LivenessSettings(), 0.0, (0.8, 1.2))
    for _ in range(5):
        tracker.add_baseline(NEUTRAL)
    assert tracker.start_steps(0.0)
    assert tracker.holding(0.5)
    tracker.observe(NEUTRAL, 0.5)
    tracker.observe(MOVES["turn_left"], 0.7)
    assert tracker.state.reason == "challenge_too_early"


def test_holds_delay_each_window() -> None:
    tracker = ChallengeTracker(("turn_left", "nod"), LivenessSettings(), 0.0, (0.8, 1.2))
    for _ in range(5):
        tracker.add_baseline(NEUTRAL)
    tracker.start_steps(0.0)
    for now, m in [(1.0, NEUTRAL), (1.4, MOVES["turn_left"]), (1.8, NEUTRAL)]:
        tracker.observe(m, now)
    assert tracker.state.index == 1 and tracker.holding(2.5) and not tracker.holding(3.1)
    for now, m in [(3.2, NEUTRAL), (3.6, MOVES["nod"]), (4.0, NEUTRAL)]:
        tracker.observe(m, now)
    assert tracker.state.status == "passed"
