"""The elderly person as a Scene (device/liveness/harness.py): reads the prompt on the screen,
answers it with the real cuts of `Moves` as her profile says (device/liveness/elderly.py).
A re-prompt (the clearer cue) or a prompt repeated by voice is a new cue: she answers it after
her reaction time, confused again with the same probability (the clearer cue is given no credit).

Between shots she rests (the real resting face, back and forth at the clip's rate). A new
action prompt is answered after her reaction time; if the screen still asks when her answer is
over, she tries again after her patience. A glance at the helper starts only while no answer is
playing; an answer waits for a glance to end. Every frame gets her tremor shift; during the
flash phase the screen's colour is reflected first (puppet.reflect), then the frame shifts.
"""

from __future__ import annotations

import math

import numpy as np

from device.liveness.api import Prompt
from device.liveness.elderly import REACTION_S, TURN_DEG, Image, Moves, Profile, Shot, shifted
from device.liveness.messages import prompt_action
from device.liveness.puppet import OPPOSITE, reflect


def asked_action(code: str | None) -> str | None:
    """The challenge action a prompt code asks for, plain or clearer cue (None: no action)."""
    return prompt_action(code)


class ElderlyPerson:
    """One person of one visit; `events` lists what she did, for the report."""

    def __init__(self, moves: Moves, profile: Profile, rng: np.random.Generator,
                 face_gain: float | None = None) -> None:  # fmt: skip
        self.moves = moves
        self.profile = profile
        self.rng = rng
        self.face_gain = float(rng.uniform(0.05, 0.2)) if face_gain is None else face_gain
        self._code: tuple[str, int] | None = None
        self._action: str | None = None
        self._try_at = math.inf
        self._shot: Shot | None = None
        self._shot_start_s = 0.0
        self._glance_at = self._next_glance(0.0)
        self.events: list[str] = []

    def _next_glance(self, now_s: float) -> float:
        if not self.profile.helper:
            return math.inf
        return now_s + float(self.rng.exponential(self.profile.glance_every_s))

    def _reaction(self) -> float:
        jitter = float(self.rng.uniform(0.8, 1.2))
        return float(np.clip(self.profile.reaction_s * jitter, *REACTION_S))

    def _read(self, prompt: Prompt | None, now_s: float) -> None:
        """A new prompt, or the same one repeated (by voice, `repeat`), is a new cue."""
        cue = (prompt.code, prompt.repeat) if prompt is not None else None
        if cue == self._code:
            return
        self._code = cue
        self._action = asked_action(cue[0] if cue else None)
        self._try_at = now_s + self._reaction() if self._action else math.inf

    def _answer(self, action: str) -> Shot | None:
        p, moves = self.profile, self.moves
        if action == "blink":
            cut = moves.blinks[int(self.rng.integers(len(moves.blinks)))]
            return Shot(tuple(cut.frames()), moves.fps * p.blink_rate, False, "blink")
        if action == "nod":
            return Shot(tuple(moves.nod.frames()), moves.fps * p.move_rate, False, "nod")
        if action not in OPPOSITE:
            return None  # the footage holds no such answer from the resting face
        confused = bool(self.rng.random() < p.mirror_confusion)
        direction = OPPOSITE[action] if confused else action
        degrees = float(np.clip(p.turn_deg + self.rng.uniform(-1.0, 1.0), *TURN_DEG))
        label = f"{direction}{' (confused)' if confused else ''} {degrees:.1f}deg"
        flipped = direction != moves.turn.action
        return moves.turn_shot(degrees, p.peak_hold_s, p.move_rate, flipped, label)

    def _glance(self) -> Shot:
        p = self.profile
        label = f"glance {p.glance_deg:.1f}deg"
        return self.moves.turn_shot(p.glance_deg, p.glance_hold_s, 1.0, False, label)

    def _start(self, shot: Shot | None, now_s: float) -> None:
        self._shot, self._shot_start_s = shot, now_s
        if shot is not None:
            self.events.append(f"{now_s:.1f}s {shot.what}")

    def _advance(self, now_s: float) -> None:
        shot = self._shot
        if shot is not None and self._position(shot, now_s) >= len(shot.frames):
            self._shot = None
            if shot.what.startswith("glance"):
                self._glance_at = self._next_glance(now_s)
            elif self._action is not None:
                self._try_at = max(self._try_at, now_s + self.profile.patience_s)
        if self._shot is not None:
            return
        if self._action is not None and now_s >= self._try_at:
            self._try_at = math.inf
            self._start(self._answer(self._action), now_s)
        elif now_s >= self._glance_at:
            self._glance_at = math.inf  # the next one is drawn when this one is over
            self._start(self._glance(), now_s)

    def _position(self, shot: Shot, now_s: float) -> int:
        return int((now_s - self._shot_start_s) * shot.rate)

    def _rest_index(self, now_s: float) -> int:
        low, high = self.moves.footage.subject.rest
        span = high - low
        step = int(max(0.0, now_s) * self.moves.fps) % (2 * span)
        return low + (step if step <= span else 2 * span - step)

    def _tremor(self) -> tuple[int, int]:
        a = self.profile.tremor_px
        dx, dy = self.rng.choice(np.array([-a, 0, a]), size=2)
        return int(dx), int(dy)

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        if now_s < 0:
            return self.moves.image(self.moves.footage.subject.enrol_frame, False)
        self._read(prompt, now_s)
        self._advance(now_s)
        index, flipped = self._rest_index(now_s), False
        if (shot := self._shot) is not None:
            index, flipped = shot.frames[self._position(shot, now_s)], shot.flipped
        rgb = self.moves.image(index, flipped)
        if prompt is not None and prompt.flash_rgb is not None:
            rgb = reflect(rgb, self.moves.mask(index, flipped), prompt.flash_rgb, self.face_gain)
        return shifted(rgb, self._tremor())
