"""SYNTHETIC attack scenes over real footage, for whole sessions (device/liveness/harness.py).

Each is a Scene (`frame(prompt, now_s) -> RGB`), drawn by device/liveness/instruments.py and
displays.py from physics, never from a detector's threshold. What the attacker does:

- `HeldPrint`: a print of one of the person's real frames, held by hand 20-30 cm from the
  camera (tremor of a hand); with `turns`, turned (yaw) or tilted (pitch) 40-60 degrees on each
  head-movement prompt after a human reaction time, then back; with `cutout`, the face cut out
  along its outline, so the room 2 m behind shows around the head.
- `HeldScreen`: a phone or tablet 20-30 cm from the camera showing `content`: the real clip on
  repeat (`ClipLoop`), or the segment puppet (device/liveness/puppet.py), which plays the real
  labelled cut of the action on screen: a replay that happens to match the challenge.

The kiosk's flash lights them as light does (instruments.py docstring); the puppet on a screen
shows footage that never saw our flash, and a screen emits it as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from device.liveness.api import Prompt
from device.liveness.displays import Display, active_px, draw_display, fill, screen_image
from device.liveness.instruments import (
    SIZE,
    CameraOptics,
    Image,
    Light,
    Linear,
    PrintPose,
    ink,
    lit_print,
    lit_room,
    placement,
    put,
    room,
)
from device.liveness.puppet import FACE_WIDTH_SHARE, Footage

MOVES = {"liveness_turn_left": ("yaw", -1.0), "liveness_turn_right": ("yaw", 1.0),
         "liveness_nod": ("pitch", 1.0)}  # fmt: skip
FACE_CENTRE = (SIZE[0] / 2, SIZE[1] * 0.45)  # where Footage puts the resting face


class Content(Protocol):
    def frame(self, prompt: Prompt | None, now_s: float) -> Image: ...


@dataclass(frozen=True, slots=True)
class Move:
    axis: str
    angle_deg: float
    start_s: float
    ramp_s: float
    hold_s: float

    def share(self, now_s: float) -> float:
        t = now_s - self.start_s
        if t < self.ramp_s + self.hold_s:
            return min(max(t / self.ramp_s, 0.0), 1.0)
        return max(0.0, 1.0 - (t - self.ramp_s - self.hold_s) / self.ramp_s)


class Hand:
    """Holds a plane: a resting pose drawn per session, tremor (two slow sines, about a degree
    and two pixels), and, when it `turns`, a movement on each head-movement prompt."""

    def __init__(self, rng: np.random.Generator, turns: bool,
                 angle_deg: tuple[float, float] = (40.0, 60.0)) -> None:  # fmt: skip
        self.rng = rng
        self.turns = turns
        self.angle_deg = angle_deg
        self.rest = PrintPose(float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)),
                         SIZE[0] / 2 + float(rng.uniform(-30, 30)),
                         SIZE[1] / 2 + float(rng.uniform(-20, 20)),
                         float(rng.uniform(0.20, 0.30)))  # fmt: skip
        self._freq = rng.uniform(0.5, 3.0, 4)
        self._phase = rng.uniform(0, 2 * math.pi, 4)
        self._code: str | None = None
        self._move: Move | None = None

    def _cue(self, prompt: Prompt | None, now_s: float) -> None:
        code = prompt.code if prompt is not None else None
        if code == self._code:
            return
        self._code = code
        if self.turns and code in MOVES:
            axis, sign = MOVES[code]
            self._move = Move(axis, sign * float(self.rng.uniform(*self.angle_deg)),
                              now_s + float(self.rng.uniform(0.35, 0.9)),
                              float(self.rng.uniform(0.5, 0.9)), float(self.rng.uniform(0.3, 0.6)))

    def pose(self, prompt: Prompt | None, now_s: float) -> PrintPose:
        self._cue(prompt, now_s)
        wobble = np.sin(2 * np.pi * self._freq * max(now_s, 0.0) + self._phase)
        yaw = self.rest.yaw_deg + 0.8 * float(wobble[0])
        pitch = self.rest.pitch_deg + 0.8 * float(wobble[1])
        if self._move is not None:
            turned = self._move.angle_deg * self._move.share(now_s)
            yaw, pitch = (yaw + turned, pitch) if self._move.axis == "yaw" else (yaw,
                                                                                  pitch + turned)
        return replace(self.rest, yaw_deg=yaw, pitch_deg=pitch,
                       x=self.rest.x + 2 * float(wobble[2]), y=self.rest.y + 2 * float(wobble[3]))


def _light(prompt: Prompt | None, gain: float) -> Light:
    colour = prompt.flash_rgb if prompt is not None else None
    return Light(tuple(c / 255.0 for c in colour) if colour else None, gain)  # type: ignore[arg-type]


def _face_box(footage: Footage, index: int) -> tuple[float, float, float, float]:
    rows, cols = np.nonzero(footage.face_mask(index) > 0.5)
    if not len(rows):
        w = FACE_WIDTH_SHARE * SIZE[0]
        return (FACE_CENTRE[0] - w / 2, FACE_CENTRE[1] - w / 2, FACE_CENTRE[0] + w / 2,
                FACE_CENTRE[1] + w / 2)  # fmt: skip
    return float(cols.min()), float(rows.min()), float(cols.max()), float(rows.max())


def sheet_reflectance(photo: Image, face_px: float, rng: np.random.Generator) -> Linear:
    """The print of `photo` (a Footage-framed image), sized so its face spans face_px camera
    pixels when it faces the camera."""
    scale = face_px / (FACE_WIDTH_SHARE * SIZE[0])
    size = (int(SIZE[0] * scale), int(SIZE[1] * scale))
    return ink(np.asarray(_resize(photo, size), np.uint8), rng)


def ellipse_alpha(size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """A cut-out along an oval around the face of a Footage-framed print of `size` (frame-level
    renderings, which have no mesh)."""
    w, h = size
    mask = np.zeros((h, w), np.float32)
    centre = (int(w * FACE_CENTRE[0] / SIZE[0]), int(h * FACE_CENTRE[1] / SIZE[1]))
    axes = (int(0.27 * w), int(0.40 * h))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, (1.0,), -1)
    return mask


class HeldPrint:
    """A print of the person (module docstring); `gain` the flash share a face at 0.35 m gets."""

    def __init__(self, footage: Footage, rng: np.random.Generator, gain: float, turns: bool,
                 cutout: bool = False) -> None:  # fmt: skip
        low, high = footage.subject.rest
        index = int(rng.integers(low, high + 1))
        photo = footage.frame(index)
        self.reflectance = sheet_reflectance(photo, float(rng.uniform(150, 240)), rng)
        size = (self.reflectance.shape[1], self.reflectance.shape[0])
        self.alpha = None
        if cutout:
            mask = (footage.face_mask(index) > 0.02).astype(np.uint8)
            grown = _dilate(mask, int(0.08 * FACE_WIDTH_SHARE * SIZE[0]))
            self.alpha = np.asarray(_resize(grown.astype(np.float32), size), np.float32)
        self.room = room(photo, _face_box(footage, index))
        self.hand = Hand(rng, turns)
        self.gain = gain
        self.camera = CameraOptics(rng)

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        pose = self.hand.pose(prompt, now_s)
        light = _light(prompt, self.gain)
        size = (self.reflectance.shape[1], self.reflectance.shape[0])
        sheet = lit_print(self.reflectance, light, pose)
        seen = put(sheet, self.alpha, placement(size, pose), lit_room(self.room, light))
        return self.camera.capture(seen)


class ClipLoop:
    """The subject's real clip on repeat from a random frame, at its own rate (it answers no
    prompt: whatever it does, it does when the recording did)."""

    def __init__(self, footage: Footage, frames: int, fps: float,
                 rng: np.random.Generator) -> None:  # fmt: skip
        self.footage = footage
        self.frames = frames
        self.fps = fps
        self.start = int(rng.integers(frames))

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        return self.footage.frame((self.start + int(max(now_s, 0.0) * self.fps)) % self.frames)


class HeldScreen:
    """A phone or tablet showing `content` (module docstring)."""

    def __init__(self, content: Content, footage: Footage, rng: np.random.Generator,
                 gain: float) -> None:  # fmt: skip
        self.content = content
        self.display: Display = draw_display(rng)
        self.hand = Hand(rng, turns=False)
        self.size = active_px(self.display, self.hand.rest.distance_m)
        face_px = max(90.0, min(float(rng.uniform(150, 240)), 0.8 * self.size[0]))
        self.zoom = face_px / (FACE_WIDTH_SHARE * SIZE[0])
        index = footage.subject.rest[0]
        self.room = room(footage.frame(index), _face_box(footage, index))
        self.room_mean = np.asarray(self.room.mean(axis=(0, 1)), np.float32)
        self.gain = gain
        self.camera = CameraOptics(rng)

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        # The content sees the prompt as the attacker does, without the kiosk's flash colour.
        plain = Prompt(prompt.code, prompt.countdown_s, None) if prompt is not None else None
        shown = fill(self.content.frame(plain, now_s), self.size, FACE_CENTRE, self.zoom)
        pose = self.hand.pose(prompt, now_s)
        light = _light(prompt, self.gain)
        behind = lit_room(self.room, light)
        seen = screen_image(self.display, shown, pose, light, behind, self.room_mean, now_s)
        return self.camera.capture(seen)


def _resize(image: npt.NDArray[Any], size: tuple[int, int]) -> npt.NDArray[Any]:
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _dilate(mask: npt.NDArray[np.uint8], radius: int) -> npt.NDArray[np.uint8]:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.asarray(cv2.dilate(mask, kernel), dtype=np.uint8)
