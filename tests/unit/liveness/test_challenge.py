"""The challenge tracker on measured frames at 15 fps, answered by a scripted person who reacts
to the prompt (virtual time): confusion re-prompts, never fails as an attack; windows wait for
the person and extend while they move."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from device.liveness.challenge import POSE_ACTIONS, ChallengeTracker, Timing, plan_actions
from device.liveness.measures import FaceMeasures
from device.liveness.settings import ALL_ACTIONS, LivenessSettings

FPS = 15.0
NEUTRAL = FaceMeasures(ear=0.3, eye_contrast=40.0, mouth=0.05, yaw_deg=2.0, pitch_deg=-3.0)


def moved(action: str, amount: float) -> FaceMeasures:
    """The neutral face moved `amount` of the way to a clear answer of `action`."""
    return FaceMeasures(
        ear=0.3 - 0.18 * amount * (action == "blink"),
        eye_contrast=40.0,
        mouth=0.05 + 0.2 * amount * (action == "open_mouth"),
        yaw_deg=2.0 + 20.0 * amount * ((action == "turn_left") - (action == "turn_right")),
        pitch_deg=-3.0 - 16.0 * amount * (action == "nod"),
    )


Behaviour = Callable[[float], FaceMeasures | None]  # seconds since the prompt -> the face


def does(action: str, react_s: float = 0.6, hold_s: float = 0.5) -> Behaviour:
    def face(since: float) -> FaceMeasures | None:
        return moved(action, 1.0) if react_s <= since < react_s + hold_s else NEUTRAL

    return face


def slowly(action: str, start_s: float, full_s: float) -> Behaviour:
    """A slow, small movement: from nothing at start_s to 0.7 of a clear answer at full_s
    (1.17 times the threshold: it is reached at 6/7 of the way), held 0.5 s."""

    def face(since: float) -> FaceMeasures | None:
        if since >= full_s + 0.5:
            return NEUTRAL
        return moved(action, 0.7 * min(1.0, max(0.0, (since - start_s) / (full_s - start_s))))

    return face


def still(since: float) -> FaceMeasures | None:
    return NEUTRAL


def away_for(seconds: float) -> Behaviour:
    return lambda since: None if since < seconds else NEUTRAL


def run(
    actions: tuple[str, ...],
    answers: list[Behaviour],
    s: LivenessSettings | None = None,
    slow: bool = False,
    holds: tuple[float, ...] = (),
    until_s: float = 60.0,
) -> ChallengeTracker:
    """Feed frames at 15 fps; each new prompt is answered by the next behaviour (the last one
    repeats), before the first prompt and between prompts the face is neutral."""
    s = s or LivenessSettings()
    tracker = ChallengeTracker(actions, s, 0.0, holds, Timing.of(s, slow))
    for _ in range(5):
        tracker.add_baseline(NEUTRAL)
    assert tracker.start_steps(0.0)
    prompts = 0
    behaviour: Behaviour = still
    prompt_at = None
    for frame in itertools.count():
        now = frame / FPS
        if now > until_s or tracker.state.status != "running":
            break
        start = tracker.state.window_start_s
        if not tracker.holding() and start != prompt_at:
            prompt_at = start
            behaviour = answers[min(prompts, len(answers) - 1)]
            prompts += 1
        face = NEUTRAL if tracker.holding() or prompt_at is None else behaviour(now - prompt_at)
        tracker.observe(face, now)
    return tracker


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


def test_answering_in_order_passes_without_guidance() -> None:
    tracker = run(("nod", "turn_left", "open_mouth"),
                  [does("nod"), does("turn_left"), does("open_mouth")])  # fmt: skip
    assert tracker.state.status == "passed"
    assert tracker.reprompts == 0 and tracker.done_well() == ("nod", "turn_left", "open_mouth")


def test_a_mirrored_turn_is_re_prompted_with_the_clearer_cue_then_passes() -> None:
    tracker = run(("turn_left", "nod"), [does("turn_right"), does("turn_left"), does("nod")])
    assert tracker.state.status == "passed"
    assert tracker.reprompts == 1 and tracker.misses == ["mirror"]
    assert tracker.clear == [True, False]
    assert tracker.done_well() == ("nod",)  # the turn needed help


def test_confusion_beyond_the_budget_ends_incomplete() -> None:
    s = LivenessSettings(max_reprompts=2)
    tracker = run(("turn_left", "nod"), [does("turn_right")], s)
    assert tracker.state.status == "failed"
    assert tracker.state.reason == "challenge_wrong_action"
    assert tracker.reprompts == 2 and tracker.misses == ["mirror"] * 3
    assert tracker.failed_action() == "turn_left"


def test_another_action_is_re_prompted_too() -> None:
    tracker = run(("nod", "blink"), [does("open_mouth"), does("nod"), does("blink")])
    assert tracker.state.status == "passed" and tracker.misses == ["wrong"]


def test_an_answer_faster_than_a_human_is_re_prompted_not_failed() -> None:
    tracker = run(("turn_right", "nod"),
                  [does("turn_right", react_s=0.0), does("turn_right"), does("nod")])  # fmt: skip
    assert tracker.state.status == "passed" and tracker.misses == ["early"]


def test_moving_before_the_prompt_only_delays_it() -> None:
    """The prompt waits until the face has been steady at neutral for ready_s plus the hold."""
    s = LivenessSettings()
    tracker = ChallengeTracker(("turn_left", "nod"), s, 0.0, (0.8, 0.8))
    for _ in range(5):
        tracker.add_baseline(NEUTRAL)
    assert tracker.start_steps(0.0)
    for frame in range(60):  # 4 s of turning and nodding before any prompt
        tracker.observe(moved("nod" if frame % 20 < 10 else "turn_left", 1.0), frame / FPS)
    assert tracker.holding() and tracker.state.status == "running" and tracker.reprompts == 0
    ready_at = None
    for frame in range(60, 120):
        tracker.observe(NEUTRAL, frame / FPS)
        if ready_at is None and not tracker.holding():
            ready_at = frame / FPS
    assert ready_at is not None and 4.0 + 1.3 - 0.01 <= ready_at <= 4.0 + 1.3 + 2 / FPS


def test_a_late_action_within_the_extended_window_passes() -> None:
    """A movement that starts after 2 s and reaches the threshold only 5.6 s after the prompt
    (window 5 s) passes because the window grows while the movement grows; without extension
    it is late."""
    answer = slowly("turn_left", 2.0, 6.2)
    tracker = run(("turn_left", "nod"), [answer, does("nod")])
    assert tracker.state.status == "passed" and tracker.reprompts == 0
    rigid = run(("turn_left", "nod"), [answer, does("nod")], LivenessSettings(max_extend_s=0))
    assert rigid.misses[0] == "late"


def test_the_extension_is_bounded() -> None:
    """Creeping movement cannot hold the window open beyond action_timeout_s + max_extend_s."""
    tracker = run(("turn_left", "nod"), [slowly("turn_left", 0.5, 30.0)],
                  LivenessSettings(max_reprompts=0))  # fmt: skip
    assert tracker.state.status == "timeout" and tracker.state.reason == "challenge_timeout"


def test_a_still_face_is_re_prompted_then_times_out() -> None:
    tracker = run(("turn_left", "nod"), [still], LivenessSettings(max_reprompts=1))
    assert tracker.state.status == "timeout" and tracker.misses == ["late", "late"]


def test_the_prompt_is_repeated_after_a_pause() -> None:
    s = LivenessSettings(repeat_prompt_s=2.0, max_reprompts=0)
    tracker = run(("nod", "blink"), [still], s, until_s=4.5)
    assert tracker.state.status == "running" and tracker.repeats == 1


def test_looking_away_is_re_prompted() -> None:
    tracker = run(("nod", "blink"), [away_for(1.5), does("nod"), does("blink")])
    assert tracker.state.status == "passed" and tracker.misses == ["away"]


def test_slow_pace_gives_longer_windows_and_ready_time() -> None:
    s = LivenessSettings()
    slow, standard = Timing.of(s, slow=True), Timing.of(s)
    assert slow.window_s == s.slow_action_timeout_s > standard.window_s == s.action_timeout_s
    assert slow.ready_s == s.slow_ready_s > standard.ready_s
    # No movement until 6.5 s after the prompt: late at the standard pace, in time when slow.
    late = [does("nod", react_s=6.5), does("blink")]
    assert run(("nod", "blink"), late, slow=True).reprompts == 0
    assert run(("nod", "blink"), late).misses[0] == "late"


def test_blinks_never_count_as_a_wrong_action() -> None:
    def blinking_then_turn(since: float) -> FaceMeasures | None:
        return moved("blink", 1.0) if 0.3 <= since < 0.4 else does("turn_left")(since)

    tracker = run(("turn_left", "nod"), [blinking_then_turn, does("nod")])
    assert tracker.state.status == "passed" and tracker.reprompts == 0


def test_baseline_is_per_person() -> None:
    """A person whose neutral head is turned 20 degrees must still turn further."""
    turned = FaceMeasures(0.3, 40.0, 0.05, 22.0, -3.0)
    tracker = ChallengeTracker(("turn_left", "nod"), LivenessSettings(), 0.0)
    for _ in range(5):
        tracker.add_baseline(turned)
    tracker.start_steps(0.0)
    for frame in range(20):
        tracker.observe(turned, frame / FPS)
    assert not tracker.holding() and tracker.state.index == 0 and not tracker.peaked


def test_holds_delay_each_prompt() -> None:
    s = LivenessSettings()
    holds = (0.8, 1.2)
    tracker = run(("turn_left", "nod"), [does("turn_left"), does("nod")], s, holds=holds)
    assert tracker.state.status == "passed"
