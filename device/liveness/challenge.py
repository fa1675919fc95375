"""The active challenge: a random sequence of actions, each answered in order within its window.

Pure logic over FaceMeasures and times (the caller's clock, virtual in tests). The person's
neutral face is measured first (median over the baseline phase); every action is a relative change
from it. A step is prompted when the person is ready: the face steady at neutral for `ready_s`
plus a random hold (movement before that only restarts the wait). Its window lasts
`action_timeout_s`, extended while the asked movement grows (bounded by `max_extend_s`), and the
prompt is repeated after `repeat_prompt_s` without progress.

Confusion is not an attack: a wrong or mirrored movement, an answer before a human could react,
a late or partial movement, or looking away re-prompts the same action with a clearer cue
(counted in `reprompts`, the record's `retry_guidance`), at most `max_reprompts` times per
attempt; after that the attempt ends incomplete (`failed` or `timeout`), which the policy never
calls a spoof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device.liveness.measures import FaceMeasures
from device.liveness.settings import LivenessSettings

POSE_ACTIONS = ("turn_left", "turn_right", "nod")
OPPOSITE = {"turn_left": "turn_right", "turn_right": "turn_left"}
DELIBERATE = ("turn_left", "turn_right", "nod", "open_mouth")
NEUTRAL_LEVEL = 0.5
MIN_BASELINE_SAMPLES = 3
# Movement towards the goal: the asked level at least this, and above its best so far by a step.
PROGRESS_LEVEL = 0.3
PROGRESS_STEP = 0.1
NOT_PROMPTED = float("inf")


def plan_actions(
    rng: np.random.Generator, allowed: Sequence[str], n_min: int, n_max: int
) -> tuple[str, ...]:
    """n_min..n_max actions, no action twice in a row, at least one head movement when allowed."""
    count = int(rng.integers(n_min, n_max + 1))
    choices = sorted(set(allowed))
    poses = [a for a in choices if a in POSE_ACTIONS]
    for _ in range(100):
        picked: list[str] = []
        for _ in range(count):
            options = [a for a in choices if not picked or a != picked[-1]]
            picked.append(str(options[int(rng.integers(len(options)))]))
        if not poses or any(a in POSE_ACTIONS for a in picked):
            return tuple(picked)
    return tuple(picked)


@dataclass(frozen=True, slots=True)
class Baseline:
    ear: float
    mouth: float
    yaw_deg: float
    pitch_deg: float


def baseline_of(samples: Sequence[FaceMeasures]) -> Baseline:
    def med(values: list[float]) -> float:
        return float(np.median(values))

    return Baseline(
        ear=med([s.ear for s in samples]),
        mouth=med([s.mouth for s in samples]),
        yaw_deg=med([s.yaw_deg for s in samples]),
        pitch_deg=med([s.pitch_deg for s in samples]),
    )


def action_levels(m: FaceMeasures, base: Baseline, s: LivenessSettings) -> dict[str, float]:
    """How far each action has gone, in units of its own threshold (1.0 = done)."""
    yaw = (m.yaw_deg - base.yaw_deg) / s.turn_yaw_deg
    ear_drop = 1.0 - m.ear / base.ear if base.ear > 0 else 0.0
    return {
        "blink": ear_drop / s.blink_ear_drop_ratio,
        "turn_left": yaw,
        "turn_right": -yaw,
        "nod": abs(m.pitch_deg - base.pitch_deg) / s.nod_pitch_deg,
        "open_mouth": (m.mouth - base.mouth) / s.mouth_open_delta,
    }


@dataclass(frozen=True, slots=True)
class Timing:
    """The pace of one attempt (standard or slow values of LivenessSettings)."""

    ready_s: float
    window_s: float
    extend_s: float
    max_extend_s: float
    repeat_s: float
    max_reprompts: int
    away_s: float

    @classmethod
    def of(cls, s: LivenessSettings, slow: bool = False) -> Timing:
        return cls(
            ready_s=s.slow_ready_s if slow else s.ready_s,
            window_s=s.slow_action_timeout_s if slow else s.action_timeout_s,
            extend_s=s.extend_s,
            max_extend_s=s.max_extend_s,
            repeat_s=s.repeat_prompt_s,
            max_reprompts=s.max_reprompts,
            away_s=s.away_s,
        )


@dataclass(frozen=True, slots=True)
class StepState:
    """`status`: running | passed | failed | timeout (both incomplete, never attack evidence);
    `index` the step now asked for; `window_start_s` when its prompt appeared (inf before)."""

    status: str
    index: int
    window_start_s: float
    reason: str | None = None


# Why a step was re-prompted, and the reason code when the budget is spent.
MISS_REASONS = {
    "mirror": "challenge_wrong_action",
    "wrong": "challenge_wrong_action",
    "early": "challenge_too_early",
    "late": "challenge_timeout",
    "away": "challenge_timeout",
}


class ChallengeTracker:
    """Follows one challenge; feed it every analysed frame in time order."""

    def __init__(
        self,
        actions: Sequence[str],
        settings: LivenessSettings,
        start_s: float,
        holds_s: Sequence[float] = (),
        timing: Timing | None = None,
    ) -> None:
        self.actions = tuple(actions)
        self.holds_s = tuple(holds_s) or (0.0,) * len(self.actions)
        self.settings = settings
        self.timing = timing or Timing.of(settings)
        self._baseline_samples: list[FaceMeasures] = []
        self.baseline: Baseline | None = None
        self.state = StepState("running", 0, NOT_PROMPTED)
        self._peaked = False
        self._steady_since: float | None = None
        self._away_since: float | None = None
        self._seen_s = start_s
        self._deadline = NOT_PROMPTED
        self._best = 0.0
        self._last_progress_s = start_s
        self.levels_peak = [0.0] * len(self.actions)
        self.last_levels: dict[str, float] = {}
        self.reprompts = 0
        self.misses: list[str] = []
        self.clear = [False] * len(self.actions)  # re-prompted with the clearer cue
        self.repeats = 0  # prompt repeats in the current window

    @property
    def peaked(self) -> bool:
        """The current action has been seen; waiting for the face to return to neutral."""
        return self._peaked

    def add_baseline(self, m: FaceMeasures) -> None:
        self._baseline_samples.append(m)

    def start_steps(self, now_s: float) -> bool:
        """Close the baseline phase; False when it had too few samples."""
        if len(self._baseline_samples) < MIN_BASELINE_SAMPLES:
            return False
        self.baseline = baseline_of(self._baseline_samples)
        self.state = StepState("running", 0, NOT_PROMPTED)
        return True

    def holding(self, now_s: float = 0.0) -> bool:
        """Before a step's prompt: the person is asked to hold still until ready."""
        return self.state.status == "running" and self.state.window_start_s == NOT_PROMPTED

    def current_action(self) -> str | None:
        if self.state.status != "running" or self.state.index >= len(self.actions):
            return None
        return self.actions[self.state.index]

    def deadline_s(self) -> float:
        return self._deadline

    def done_well(self) -> tuple[str, ...]:
        """Actions passed at their first prompt (no re-prompt)."""
        return tuple(dict.fromkeys(a for i, a in enumerate(self.actions)
                                   if i < self.state.index and not self.clear[i]))  # fmt: skip

    def observe(self, m: FaceMeasures | None, now_s: float) -> StepState:
        """Advance on one frame's measures (None: no usable face in this frame)."""
        action = self.current_action()
        if action is None or self.baseline is None:
            return self.state
        self.last_levels = {}
        if self.holding():
            self._wait_ready(m, now_s)
            return self.state
        if now_s > self._deadline:
            self._miss("late")
            return self.state
        if m is None:
            self._away_since = now_s if self._away_since is None else self._away_since
            if now_s - self._away_since >= self.timing.away_s:
                self._miss("away")
            return self.state
        self._away_since = None
        levels = action_levels(m, self.baseline, self.settings)
        self.last_levels = levels
        self._step(action, levels, now_s)
        return self.state

    def _wait_ready(self, m: FaceMeasures | None, now_s: float) -> None:
        if m is None:  # an unmeasured frame says nothing, unless the face stays away
            if now_s - self._seen_s >= self.timing.away_s:
                self._steady_since = None
            return
        self._seen_s = now_s
        neutral = self.baseline is not None and all(
            v < NEUTRAL_LEVEL
            for k, v in action_levels(m, self.baseline, self.settings).items()
            if k in DELIBERATE
        )
        if not neutral:
            self._steady_since = None
            return
        self._steady_since = now_s if self._steady_since is None else self._steady_since
        index = self.state.index
        if now_s - self._steady_since >= self.timing.ready_s + self.holds_s[index]:
            self.state = StepState("running", index, now_s)
            self._deadline = now_s + self.timing.window_s
            self._best = 0.0
            self._last_progress_s = now_s
            self.repeats = 0

    def _step(self, action: str, levels: dict[str, float], now_s: float) -> None:
        index = self.state.index
        level = levels[action]
        self.levels_peak[index] = max(self.levels_peak[index], level)
        if self._peaked:
            if all(v < NEUTRAL_LEVEL for k, v in levels.items() if k in DELIBERATE):
                self._next(index, now_s)
            return
        wrong = [a for a in DELIBERATE
                 if a != action and levels[a] >= self.settings.wrong_action_factor]  # fmt: skip
        mirrored = OPPOSITE.get(action)
        if mirrored is not None and levels[mirrored] >= 1.0:  # the other side: re-prompt at once
            self._miss("mirror")
        elif wrong:
            self._miss("wrong")
        elif level >= 1.0:
            if now_s - self.state.window_start_s < self.settings.min_reaction_s:
                self._miss("early")
            else:
                self._peaked = True  # done; the return to the front has a window of its own
                self._deadline = now_s + self.timing.window_s
        else:
            self._follow_progress(level, now_s)

    def _follow_progress(self, level: float, now_s: float) -> None:
        t = self.timing
        if level >= PROGRESS_LEVEL and level >= self._best + PROGRESS_STEP:
            self._best = level
            self._last_progress_s = now_s
            ceiling = self.state.window_start_s + t.window_s + t.max_extend_s
            self._deadline = min(max(self._deadline, now_s + t.extend_s), ceiling)
        elif now_s - self._last_progress_s >= t.repeat_s:
            self.repeats += 1
            self._last_progress_s = now_s

    def _next(self, index: int, now_s: float) -> None:
        self._peaked = False
        self._steady_since = now_s
        self._deadline = NOT_PROMPTED
        finished = index + 1 >= len(self.actions)
        self.state = StepState("passed" if finished else "running", index + 1, NOT_PROMPTED)

    def _miss(self, kind: str) -> None:
        """Re-prompt the same action with the clearer cue, or end incomplete when the budget
        of re-prompts is spent."""
        index = self.state.index
        self.misses.append(kind)
        if self.reprompts >= self.timing.max_reprompts:
            status = "timeout" if kind in ("late", "away") else "failed"
            self.state = StepState(status, index, self.state.window_start_s, MISS_REASONS[kind])
            return
        self.reprompts += 1
        self.clear[index] = True
        self._peaked = False
        self._steady_since = None
        self._away_since = None
        self._deadline = NOT_PROMPTED
        self.state = StepState("running", index, NOT_PROMPTED)

    def failed_action(self) -> str | None:
        """The action the attempt ended on, when it ended incomplete."""
        if self.state.status in ("failed", "timeout") and self.state.index < len(self.actions):
            return self.actions[self.state.index]
        return None
