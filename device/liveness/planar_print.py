"""A SYNTHETIC planar print turned on cue: the attack the 3-D check (planar.py) must refuse."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from device.liveness.api import Prompt
from device.liveness.messages import prompt_action
from device.liveness.planar import plane_view

Image = npt.NDArray[np.uint8]


class PlanarPrint:
    """A SYNTHETIC attack scene from geometry alone: a flat photo of the enrolled face, held in
    front of the camera and turned on cue (up to `max_deg`, there and back) about its vertical
    axis for turn prompts and its horizontal axis for nods, after a human reaction time. It
    cannot blink or open its mouth. With the flash on, the paper reflects the screen evenly
    (face and margin at the same distance), the room 2 m behind by the inverse-square law."""

    def __init__(self, photo: Image, rng: np.random.Generator,
                 max_deg: tuple[float, float] = (40.0, 60.0),
                 noise: float = 2.0) -> None:  # fmt: skip
        self.photo = photo
        self.rng = rng
        self.max_deg = max_deg
        self.noise = noise
        self.gain = float(rng.uniform(0.05, 0.2))
        self.room = np.full_like(photo, int(rng.integers(60, 160)))
        self._code: str | None = None
        self._move: tuple[str, float, float] | None = None  # axis, signed angle, start time

    def _angles(self, now_s: float) -> tuple[float, float]:
        if self._move is None:
            return 0.0, 0.0
        axis, angle, start = self._move
        t = now_s - start
        ramp, hold = 0.8, 0.4
        share = min(max(t / ramp, 0.0), 1.0) if t < ramp + hold else max(
            0.0, 1.0 - (t - ramp - hold) / ramp
        )
        return (angle * share, 0.0) if axis == "yaw" else (0.0, angle * share)

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        action = prompt_action(prompt.code if prompt is not None else None)
        code = f"liveness_{action}" if action else None  # an attacker answers every cue
        if code != self._code:
            self._code = code
            moves = {"liveness_turn_left": ("yaw", -1.0), "liveness_turn_right": ("yaw", 1.0),
                     "liveness_nod": ("pitch", 1.0)}  # fmt: skip
            if code in moves:
                axis, sign = moves[code]
                angle = sign * float(self.rng.uniform(*self.max_deg))
                self._move = (axis, angle, now_s + float(self.rng.uniform(0.35, 0.8)))
        yaw, pitch = self._angles(now_s)
        rgb = plane_view(self.photo, yaw, pitch, background=self.room).astype(np.float32)
        if prompt is not None and prompt.flash_rgb is not None:
            light = np.asarray(prompt.flash_rgb, np.float32) / 255.0
            rgb *= 1.0 + self.gain * light
        rgb += self.rng.normal(0.0, self.noise, rgb.shape).astype(np.float32)
        return np.asarray(np.clip(rgb, 0, 255), dtype=np.uint8)
