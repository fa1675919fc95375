"""The active challenge: a random sequence of actions, each answered in order within its window.

Pure logic over FaceMeasures and times. The person's neutral face is measured first (median over
the baseline phase); every action is a relative change from it. Each step's window opens when the
previous step has been done, the face returned to neutral and a random hold has passed; it closes
`action_timeout_s` later. A different deliberate action (a turn, nod or mouth opening that was not
asked for), a movement during a hold, or an answer faster than a human can react fails the
challenge: a recorded video answers some other sequence, at other moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device.liveness.measures import FaceMeasures
from device.liveness.settings import LivenessSettings

POSE_ACTIONS = ("turn_left", "turn_right", "nod")
DELIBERATE = ("turn_left", "turn_right", "nod", "open_mouth")
NEUTRAL_LEVEL = 0.5
MIN_BASELINE_SAMPLES = 3


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
class StepState:
    """`status`: running | passed | failed | timeout; `index` the step now asked for."""

    status: str
    index: int
    window_start_s: float
    reason: str | None = None


class ChallengeTracker:
    """Follows one challenge; feed it every analysed frame in time order."""

    def __init__(
        self,
        actions: Sequence[str],
        settings: LivenessSettings,
        start_s: float,
        holds_s: Sequence[float] = (),
    ) -> None:
        self.actions = tuple(actions)
        self.holds_s = tuple(holds_s) or (0.0,) * len(self.actions)
        self.settings = settings
        self._baseline_samples: list[FaceMeasures] = []
        self._baseline_end_s = start_s
        self.baseline: Baseline | None = None
        self.state = StepState("running", 0, start_s)
        self._peaked = False
        self.levels_peak = [0.0] * len(self.actions)
        self.last_levels: dict[str, float] = {}

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
        self.state = StepState("running", 0, now_s + self.holds_s[0])
        return True

    def holding(self, now_s: float) -> bool:
        """Between steps: the person is asked to hold still until the next prompt."""
        return self.state.status == "running" and now_s < self.state.window_start_s

    def current_action(self) -> str | None:
        if self.state.status != "running" or self.state.index >= len(self.actions):
            return None
        return self.actions[self.state.index]

    def deadline_s(self) -> float:
        return self.state.window_start_s + self.settings.action_timeout_s

    def observe(self, m: FaceMeasures | None, now_s: float) -> StepState:
        """Advance on one frame's measures (None: no usable face in this frame)."""
        action = self.current_action()
        if action is None or self.baseline is None:
            return self.state
        if now_s > self.deadline_s():
            self.state = StepState(
                "timeout", self.state.index, self.state.window_start_s, "challenge_timeout"
            )
            return self.state
        self.last_levels = {}
        if m is None:
            return self.state
        levels = action_levels(m, self.baseline, self.settings)
        self.last_levels = levels
        if self.holding(now_s):
            if any(levels[a] >= 1.0 for a in DELIBERATE):
                self._fail("challenge_too_early")
        else:
            self._step(action, levels, now_s)
        return self.state

    def _step(self, action: str, levels: dict[str, float], now_s: float) -> None:
        index = self.state.index
        self.levels_peak[index] = max(self.levels_peak[index], levels[action])
        if not self._peaked:
            wrong = [
                a
                for a in DELIBERATE
                if a != action and levels[a] >= self.settings.wrong_action_factor
            ]
            if wrong:
                self._fail("challenge_wrong_action")
            elif levels[action] >= 1.0:
                early = now_s - self.state.window_start_s < self.settings.min_reaction_s
                if early:
                    self._fail("challenge_too_early")
                self._peaked = True
            return
        if all(v < NEUTRAL_LEVEL for k, v in levels.items() if k in DELIBERATE):
            self._peaked = False
            finished = index + 1 >= len(self.actions)
            status = "passed" if finished else "running"
            hold = self.holds_s[index + 1] if not finished else 0.0
            self.state = StepState(status, index + 1, now_s + hold)

    def _fail(self, reason: str) -> None:
        self.state = StepState("failed", self.state.index, self.state.window_start_s, reason)
