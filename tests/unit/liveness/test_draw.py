"""The challenge draw: an exact distribution, easier actions first, the last attempt's failures
left out, and the security minimum (device/liveness/draw.py), enforced on kiosk configurations."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import parse
from device.errors import ConfigError
from device.liveness.draw import (
    MIN_REPLAY_BITS,
    POSE_ACTIONS,
    Space,
    space_for,
    worst_replay_bits,
)
from device.liveness.plan import AttemptPlan
from device.liveness.settings import ALL_ACTIONS, LivenessSettings

S = LivenessSettings()


def default_space(plan: AttemptPlan) -> Space:
    return space_for(S.actions, S.actions_min, S.actions_max, S.prefer_weight, S.max_reprompts,
                     plan)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.sets(st.sampled_from(ALL_ACTIONS)),
       st.sets(st.sampled_from(ALL_ACTIONS)))  # fmt: skip
def test_every_draw_is_a_valid_challenge(seed: int, attempt: int, done: set[str],
                                         failed: set[str]) -> None:  # fmt: skip
    plan = AttemptPlan(attempt > 1, attempt, tuple(sorted(done)), tuple(sorted(failed)))
    space = default_space(plan)
    drawn = space.sample(np.random.default_rng(seed))
    assert S.actions_min <= len(drawn) <= S.actions_max
    assert all(a != b for a, b in itertools.pairwise(drawn))
    assert any(a in POSE_ACTIONS for a in drawn)
    assert space.replay_bits(S.max_reprompts) >= MIN_REPLAY_BITS


def test_the_distribution_is_exact_and_the_sampler_follows_it() -> None:
    space = default_space(AttemptPlan())
    table = space.distribution()
    assert math.isclose(sum(table.values()), 1.0)
    assert space.count() == 96  # 18 two-action and 78 three-action challenges
    rng = np.random.default_rng(20261203)
    n = 20000
    counts = Counter(space.sample(rng) for _ in range(n))
    assert set(counts) <= set(table)
    for challenge, p in table.items():  # every frequency within 4.5 standard deviations
        assert abs(counts[challenge] / n - p) <= 4.5 * math.sqrt(p * (1 - p) / n) + 1e-4


def _first_share(space: Space, actions: tuple[str, ...]) -> float:
    return sum(p for seq, p in space.distribution().items() if seq[0] in actions)


def test_the_first_attempt_prefers_blink_and_nod() -> None:
    preferred = default_space(AttemptPlan(attempt=1))
    uniform = Space(tuple(S.actions), (1.0,) * len(S.actions), 2, 3)
    assert _first_share(preferred, ("blink", "nod")) > _first_share(uniform, ("blink", "nod"))
    assert _first_share(uniform, ("blink", "nod")) == pytest.approx(0.4, abs=0.05)
    assert _first_share(preferred, ("blink", "nod")) == pytest.approx(0.5, abs=0.05)


def test_later_attempts_prefer_what_the_person_did_well_and_avoid_what_failed() -> None:
    plan = AttemptPlan(True, 2, done_well=("turn_right",), failed_last=("turn_left",))
    space = default_space(plan)
    assert "turn_left" not in space.actions
    rng = np.random.default_rng(7)
    assert not any("turn_left" in space.sample(rng) for _ in range(500))
    # Without turn_left the preference would cost too much: avoiding the failure comes first.
    assert space.weight("turn_right") == 1.0
    assert space.replay_bits(S.max_reprompts) >= MIN_REPLAY_BITS
    kept = default_space(AttemptPlan(True, 2, done_well=("turn_right",), failed_last=("blink",)))
    assert "blink" not in kept.actions and kept.weight("turn_right") == S.prefer_weight


def test_failed_actions_come_back_easiest_first_when_nothing_else_remains() -> None:
    failed = ("blink", "nod", "open_mouth", "turn_right")  # only turn_left left
    space = default_space(AttemptPlan(True, 2, failed_last=failed))
    assert space.replay_bits(S.max_reprompts) >= MIN_REPLAY_BITS
    assert "turn_left" in space.actions and "blink" in space.actions  # easiest back first
    assert len(space.actions) < len(ALL_ACTIONS) and "turn_right" not in space.actions


def test_the_security_of_the_default_set() -> None:
    every = tuple(ALL_ACTIONS)
    uniform = Space(every, (1.0,) * 5, 2, 3)
    # Before issue 18: uniform draw, no re-prompt (a wrong movement was a spoof).
    assert uniform.guess_bits() == pytest.approx(-math.log2(0.5 / 18))
    assert uniform.replay_bits(0) == pytest.approx(4.01, abs=0.01)
    # Now: blink and nod preferred 1.5 times, one re-prompt: the worst a visit can steer to.
    worst = worst_replay_bits(every, 2, 3, S.prefer_weight, S.max_reprompts)
    assert worst == pytest.approx(S.replay_bits())
    assert MIN_REPLAY_BITS <= worst == pytest.approx(1.87, abs=0.01)


def _exact_replay_pass(space: Space, reprompts: int) -> float:
    """The best recording's pass probability: deliberate movements R, blinks free, at most
    `reprompts` recorded movements wasted on re-prompts (the model the bound is made for)."""
    deliberate = [a for a in space.actions if a != "blink"]
    table = space.distribution()
    projected: dict[tuple[str, ...], float] = {}
    for seq, p in table.items():
        key = tuple(a for a in seq if a != "blink")
        projected[key] = projected.get(key, 0.0) + p
    best = 0.0
    for length in range(space.n_max + reprompts + 1):
        for recording in itertools.product(deliberate, repeat=length):
            answered = set()
            for j in range(min(reprompts, length) + 1):
                for dropped in itertools.combinations(range(length), j):
                    answered.add(tuple(a for i, a in enumerate(recording) if i not in dropped))
            best = max(best, sum(projected.get(c, 0.0) for c in answered))
    return best


@pytest.mark.parametrize("reprompts", [0, 1])
def test_the_bound_holds_for_the_best_possible_recording(reprompts: int) -> None:
    space = default_space(AttemptPlan())
    exact = _exact_replay_pass(space, reprompts)
    assert exact <= 2 ** -space.replay_bits(reprompts) + 1e-12
    assert exact >= 0.5 * 2 ** -space.replay_bits(reprompts)  # and it is not far off


@pytest.mark.parametrize(
    "section",
    [
        'actions = ["blink", "nod", "turn_left"]',
        "prefer_weight = 3.0",
        "max_reprompts = 2",
        "actions_min = 1\nactions_max = 1",
    ],
)
def test_a_kiosk_configuration_below_the_minimum_is_refused(section: str) -> None:
    with pytest.raises(ConfigError, match="bits against a replay"):
        parse(f"[device]\nid = \"k1\"\n\n[liveness]\n{section}\n")


def test_the_default_and_a_wider_configuration_are_accepted() -> None:
    assert parse("").liveness.replay_bits() >= MIN_REPLAY_BITS
    wide = parse("[liveness]\nactions_min = 3\nactions_max = 4\nmax_reprompts = 2\n")
    assert wide.liveness.replay_bits() >= MIN_REPLAY_BITS
    assert parse("[liveness]\nenabled = false\nactions = [\"blink\", \"nod\"]\n")
