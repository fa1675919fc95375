"""Which challenge to ask: easier actions first, and how random the draw stays.

The draw is an exact distribution over ordered challenges (`Space.distribution`): n actions,
n uniform in actions_min..actions_max, no action twice in a row, at least one head movement when
the pool has one; each action weighted (`prefer_weight` for the preferred ones, 1 otherwise),
drawn in turn among the actions that may follow, the sequences without a head movement left out
and the rest renormalised. Preferred: blink and nod on a visit's first attempt, afterwards the
actions this person did at the first prompt earlier in the visit. The actions the previous
attempt could not complete are left out, unless what remains would fall below the security
minimum: then the preference goes first, and only then do they come back, easiest first
("nothing else remains").

Security against a replay (a recording that answers some fixed sequence, never the prompts):
blinks are free for it (people blink all the time, so a blink is never a wrong movement), and
each of the `max_reprompts` re-prompts lets one recorded movement be wrong. A recording of L
deliberate movements (turn, nod, mouth) therefore answers at most C(L, j) different challenges
whose movements, blinks left out, number L - j (j <= max_reprompts), each drawn with probability
at most p_k, the largest probability of any blink-free projection of length k. So one attempt is
passed with probability at most

    bound = max over L of  sum_{j=0..r} C(L, j) * p_{L-j}

and `replay_bits` = -log2(bound). The settings are refused below MIN_REPLAY_BITS for every
preference an attacker can steer (which actions count as done well), and the draw never uses a
pool below it. Timing (the random holds, windows that open only on a steady face) and the screen
flash come on top; they are not counted here.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from device.liveness.plan import AttemptPlan

POSE_ACTIONS = ("turn_left", "turn_right", "nod")  # head movements (the planar_motion check)
# One attempt of a replay guessing the sequence passes at most 1 in 2^MIN_REPLAY_BITS.
MIN_REPLAY_BITS = 1.5
EASIEST_FIRST = ("blink", "nod", "open_mouth", "turn_left", "turn_right")
FIRST_ATTEMPT = ("blink", "nod")
Challenge = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Space:
    """The actions that may be drawn, their weights, and the length range."""

    actions: tuple[str, ...]
    weights: tuple[float, ...]
    n_min: int
    n_max: int

    def weight(self, action: str) -> float:
        return self.weights[self.actions.index(action)]

    def distribution(self) -> Mapping[Challenge, float]:
        return _distribution(self)

    def sample(self, rng: np.random.Generator) -> Challenge:
        challenges, cumulative = _cumulative(self)
        index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        return challenges[min(index, len(challenges) - 1)]

    def count(self) -> int:
        """How many ordered challenges can be drawn."""
        return len(self.distribution())

    def guess_bits(self) -> float:
        """-log2 of the likeliest challenge: a replay of exactly one sequence, no re-prompt."""
        return -math.log2(max(self.distribution().values()))

    def replay_bits(self, reprompts: int) -> float:
        return _replay_bits(self, reprompts)


@functools.lru_cache(maxsize=256)
def _cumulative(space: Space) -> tuple[tuple[Challenge, ...], npt.NDArray[np.float64]]:
    table = sorted(space.distribution().items())
    return tuple(c for c, _ in table), np.cumsum([p for _, p in table])


@functools.lru_cache(maxsize=256)
def _distribution(space: Space) -> Mapping[Challenge, float]:
    has_pose = any(a in POSE_ACTIONS for a in space.actions)
    lengths = range(space.n_min, space.n_max + 1)
    table: dict[Challenge, float] = {}
    for n in lengths:
        kept = {seq: p for seq, p in _sequences(space, n)
                if not has_pose or any(a in POSE_ACTIONS for a in seq)}  # fmt: skip
        total = sum(kept.values())
        for seq, p in kept.items():
            table[seq] = p / total / len(lengths)
    if not table:
        raise ValueError(f"no challenge can be drawn from {space.actions}")
    return table


def _sequences(space: Space, n: int) -> Iterable[tuple[Challenge, float]]:
    def grow(prefix: Challenge, p: float) -> Iterable[tuple[Challenge, float]]:
        if len(prefix) == n:
            yield prefix, p
            return
        options = [a for a in space.actions if not prefix or a != prefix[-1]]
        total = sum(space.weight(a) for a in options)
        for a in options:
            yield from grow((*prefix, a), p * space.weight(a) / total)

    return grow((), 1.0)


@functools.lru_cache(maxsize=256)
def _replay_bits(space: Space, reprompts: int) -> float:
    projected: dict[Challenge, float] = {}
    for seq, p in space.distribution().items():
        key = tuple(a for a in seq if a != "blink")
        projected[key] = projected.get(key, 0.0) + p
    largest: dict[int, float] = {}
    for key, p in projected.items():
        largest[len(key)] = max(largest.get(len(key), 0.0), p)
    longest = max(largest) + reprompts
    bound = max(
        sum(math.comb(length, j) * largest.get(length - j, 0.0)
            for j in range(min(reprompts, length) + 1))
        for length in range(longest + 1)
    )  # fmt: skip
    return -math.log2(min(1.0, bound))


def _valid(pool: tuple[str, ...], allowed: tuple[str, ...]) -> bool:
    has_pose = any(a in POSE_ACTIONS for a in allowed)
    return len(pool) >= 2 and (not has_pose or any(a in POSE_ACTIONS for a in pool))


def space_for(
    allowed: Iterable[str],
    n_min: int,
    n_max: int,
    prefer_weight: float,
    reprompts: int,
    plan: AttemptPlan,
) -> Space:
    """The attempt's space: the last attempt's failures left out and the preferred actions
    weighted, as long as that keeps MIN_REPLAY_BITS; else without the preference; else with the
    failed actions back, easiest first (the whole set always keeps it: settings are refused
    otherwise)."""
    every = tuple(dict.fromkeys(allowed))
    preferred = FIRST_ATTEMPT if plan.attempt <= 1 else plan.done_well
    back = sorted((a for a in every if a in plan.failed_last), key=_ease)
    for returned in range(len(back) + 1):
        pool = tuple(a for a in every if a not in plan.failed_last or a in back[:returned])
        if not _valid(pool, every):
            continue
        for weight in (prefer_weight, 1.0):
            weights = tuple(weight if a in preferred else 1.0 for a in pool)
            space = Space(pool, weights, n_min, n_max)
            if space.replay_bits(reprompts) >= MIN_REPLAY_BITS:
                return space
    return Space(every, tuple(prefer_weight if a in preferred else 1.0 for a in every),
                 n_min, n_max)  # fmt: skip


def _ease(action: str) -> int:
    return EASIEST_FIRST.index(action) if action in EASIEST_FIRST else len(EASIEST_FIRST)


def worst_replay_bits(
    allowed: Iterable[str], n_min: int, n_max: int, prefer_weight: float, reprompts: int
) -> float:
    """The lowest replay_bits over every preference a visit can produce (any subset of the
    actions done well, or the first attempt's), over the whole action set."""
    every = tuple(dict.fromkeys(allowed))
    return _worst(every, n_min, n_max, prefer_weight, reprompts)


@functools.lru_cache(maxsize=64)
def _worst(every: tuple[str, ...], n_min: int, n_max: int, prefer_weight: float,
           reprompts: int) -> float:  # fmt: skip
    subsets = itertools.chain.from_iterable(
        itertools.combinations(every, k) for k in range(len(every) + 1))
    bits = []
    for preferred in subsets:
        weights = tuple(prefer_weight if a in preferred else 1.0 for a in every)
        bits.append(Space(every, weights, n_min, n_max).replay_bits(reprompts))
    return min(bits)
