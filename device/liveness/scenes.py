"""SYNTHETIC presentation scenes for the liveness evaluation: a bona fide person who follows the
prompts, and the attacks of ISO/IEC 30107-3 style tests (photo, screen, replay, cut-out photo).

Every scene answers `frame(prompt, now_s) -> RGB image`. None of this is camera data: real captures
are still needed before anyone trusts numbers measured on it.
"""

from __future__ import annotations

import math
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from device.liveness.api import Prompt
from device.liveness.messages import prompt_action
from device.liveness.synth import (
    EYE_RINGS,
    Pose,
    Warper,
    camera_noise,
    face_mask,
    reflect_flash,
    render_pose,
)
from device.vision.types import Image, Points

ACTION_POSES = {
    "liveness_turn_left": Pose(yaw_deg=30.0),
    "liveness_turn_right": Pose(yaw_deg=-30.0),
    "liveness_nod": Pose(pitch_deg=-20.0),
    "liveness_open_mouth": Pose(mouth_open=1.0),
    "liveness_blink": Pose(eyes_closed=1.0),
}


class Scene(Protocol):
    """What the camera sees: one RGB frame for the prompt on screen at now_s."""

    def frame(self, prompt: Prompt | None, now_s: float) -> Image: ...


class FaceSource:
    """A 320x240 still of one face and its 468-point mesh (frame pixels); the warper is built
    on first use (it costs about half a second)."""

    def __init__(self, name: str, rgb: Image, mesh: Points) -> None:
        self.name = name
        self.rgb = rgb
        self.mesh = mesh
        self._warper: Warper | None = None

    @property
    def warper(self) -> Warper:
        if self._warper is None:
            self._warper = Warper(self.mesh, self.rgb.shape)
        return self._warper


class Person:
    """A bona fide person: reacts to each action prompt after a human latency, with small head
    sway, skin that reflects the screen flash and camera noise."""

    def __init__(
        self, source: FaceSource, rng: np.random.Generator, only: tuple[str, ...] | None = None
    ) -> None:
        self.source = source
        self.rng = rng
        self.only = only
        self.face_gain = float(rng.uniform(0.15, 0.35))
        self.background_gain = self.face_gain * float(rng.uniform(0.05, 0.3))
        self.noise = float(rng.uniform(1.5, 4.0))
        self._code: str | None = None
        self._action_start = 0.0
        self._duration = 1.0
        self.points = source.mesh

    def pose(self, prompt: Prompt | None, now_s: float) -> Pose:
        action = prompt_action(prompt.code if prompt is not None else None)
        code = f"liveness_{action}" if action else None  # the plain or the clearer cue
        if code in ACTION_POSES and code != self._code:
            self._code = code
            self._action_start = now_s + float(self.rng.uniform(0.3, 0.7))
            self._duration = float(self.rng.uniform(0.7, 1.1))
        sway = self.rng.normal(0.0, 0.8, 2)
        phase = (now_s - self._action_start) / self._duration
        amount = math.sin(math.pi * phase) if self._code and 0 <= phase <= 1 else 0.0
        amount = min(1.0, 1.6 * max(0.0, amount))
        target = ACTION_POSES.get(self._code or "", Pose())
        if self.only is not None and self._code not in self.only:
            amount = 0.0
        return Pose(
            yaw_deg=target.yaw_deg * amount + float(sway[0]),
            pitch_deg=target.pitch_deg * amount + float(sway[1]),
            eyes_closed=target.eyes_closed * amount,
            mouth_open=target.mouth_open * amount,
        )

    def clean_frame(self, prompt: Prompt | None, now_s: float) -> Image:
        """The posed face with the flash reflected, before camera noise."""
        rgb, points = render_pose(self.source.rgb, self.source.warper, self.pose(prompt, now_s))
        self.points = points
        if prompt is not None and prompt.flash_rgb is not None:
            mask = face_mask(rgb.shape, points)
            rgb = reflect_flash(rgb, mask, prompt.flash_rgb, self.face_gain, self.background_gain)
        return rgb

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        return camera_noise(self.clean_frame(prompt, now_s), self.rng, self.noise)


def room(rng: np.random.Generator, shape: tuple[int, int]) -> Image:
    """A plain wall with a soft gradient (the scene behind a held-up photo or screen)."""
    height, width = shape
    base = rng.uniform(60, 200, 3)
    ramp = np.linspace(0.85, 1.15, width)[None, :, None]
    return np.asarray(np.clip(base * ramp * np.ones((height, 1, 1)), 0, 255), dtype=np.uint8)


def place(content: Image, background: Image, matrix: npt.NDArray[np.float64]) -> Image:
    """`content` warped by the 2x3 matrix onto `background`."""
    height, width = background.shape[:2]
    warped = cv2.warpAffine(content, matrix, (width, height))
    mask = cv2.warpAffine(np.full(content.shape[:2], 255, np.uint8), matrix, (width, height))
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    return np.asarray(warped * alpha + background * (1 - alpha), dtype=np.uint8)


def _held(rng: np.random.Generator, scale: float, size: tuple[int, int]) -> npt.NDArray[np.float64]:
    width, height = size
    cx = width / 2 + float(rng.uniform(-10, 10))
    cy = height / 2 + float(rng.uniform(-8, 8))
    return cv2.getRotationMatrix2D((cx, cy), float(rng.uniform(-4, 4)), scale).astype(np.float64)


def _tremor(rng: np.random.Generator, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    angle = math.radians(float(rng.normal(0, 0.8)))
    jitter = np.array(
        [
            [math.cos(angle), -math.sin(angle), rng.normal(0, 1.5)],
            [math.sin(angle), math.cos(angle), rng.normal(0, 1.5)],
        ]
    )
    return np.asarray(np.vstack([jitter, [0, 0, 1]]) @ np.vstack([matrix, [0, 0, 1]]))[:2]


class PhotoAttack:
    """(b) A printed photo held still or with hand tremor; it reflects the flash evenly."""

    def __init__(self, source: FaceSource, rng: np.random.Generator, tremor: bool) -> None:
        self.rng = rng
        self.tremor = tremor
        self.photo = source.rgb
        self.background = room(rng, (source.rgb.shape[0], source.rgb.shape[1]))
        self.matrix = _held(rng, float(rng.uniform(0.8, 1.0)), (320, 240))
        self.gain = float(rng.uniform(0.15, 0.35))

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        matrix = _tremor(self.rng, self.matrix) if self.tremor else self.matrix
        rgb = place(self.photo, self.background, matrix)
        if prompt is not None and prompt.flash_rgb is not None:
            rgb = reflect_flash(
                rgb, np.ones(rgb.shape[:2], np.float32), prompt.flash_rgb, self.gain, self.gain
            )
        return camera_noise(rgb, self.rng, 2.5)


class ScreenAttack:
    """(c) The photo on a phone or tablet screen: bezel, gamma, moire, emissive (no flash)."""

    def __init__(self, source: FaceSource, rng: np.random.Generator) -> None:
        self.rng = rng
        shown = source.rgb.astype(np.float32) / 255.0
        shown = shown ** float(rng.uniform(0.75, 1.3)) * 255.0
        height, width = shown.shape[:2]
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        period = float(rng.uniform(2.4, 4.5))
        theta = float(rng.uniform(0, math.pi))
        wave = np.cos(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
        shown = shown * (1.0 + float(rng.uniform(0.12, 0.3)) * wave)[..., None]
        bezel = int(rng.integers(8, 16))
        device = np.full((height + 2 * bezel, width + 2 * bezel, 3), rng.integers(5, 40), np.uint8)
        device[bezel:-bezel, bezel:-bezel] = np.clip(shown, 0, 255).astype(np.uint8)
        scale = float(rng.uniform(0.8, 0.95)) * width / device.shape[1]
        self.matrix = _held(rng, 1.0, (320, 240))
        self.matrix[:, :2] *= scale
        self.matrix[:, 2] += (1 - scale) * np.array([width / 2, height / 2])
        self.device = device
        self.background = room(rng, (height, width))

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        rgb = place(self.device, self.background, _tremor(self.rng, self.matrix))
        if prompt is not None and prompt.flash_rgb is not None:
            rgb = reflect_flash(
                rgb, np.zeros(rgb.shape[:2], np.float32), prompt.flash_rgb, 0.0, 0.02
            )
        return camera_noise(rgb, self.rng, 2.5)


class CutoutAttack:
    """(e) A printed photo with the eyes cut out: a person behind it blinks through the holes,
    the paper (texture, edges) never turns; the paper reflects the flash evenly."""

    def __init__(self, source: FaceSource, rng: np.random.Generator) -> None:
        self.rng = rng
        self.person = Person(source, rng, only=("liveness_blink",))
        texture = rng.normal(1.0, 0.04, source.rgb.shape[:2])[..., None]
        grey = source.rgb.mean(axis=2, keepdims=True)
        paper = (0.8 * source.rgb + 0.2 * grey) * texture
        self.paper = np.asarray(np.clip(paper, 0, 255), dtype=np.uint8)
        self.holes = _eye_holes(source)
        self.background = room(rng, (source.rgb.shape[0], source.rgb.shape[1]))
        self.matrix = _held(rng, float(rng.uniform(0.7, 0.85)), (320, 240))
        self.gain = float(rng.uniform(0.15, 0.35))

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        behind = self.person.clean_frame(prompt, now_s)
        alpha = self.holes[..., None]
        sheet = np.asarray(self.paper * (1 - alpha) + behind * alpha, dtype=np.uint8)
        matrix = _tremor(self.rng, self.matrix)
        rgb = place(sheet, self.background, matrix)
        if prompt is not None and prompt.flash_rgb is not None:
            rgb = reflect_flash(
                rgb, np.ones(rgb.shape[:2], np.float32), prompt.flash_rgb, self.gain, self.gain
            )
        return camera_noise(rgb, self.rng, 2.5)


def _eye_holes(source: FaceSource) -> npt.NDArray[np.float32]:
    mask = np.zeros(source.rgb.shape[:2], np.uint8)
    for ring in EYE_RINGS:
        hull = cv2.convexHull(np.round(source.mesh[list(ring), :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (255,))
    return np.asarray(cv2.dilate(mask, np.ones((3, 3), np.uint8)), dtype=np.float32) / 255.0


class Replay:
    """(d) Frames recorded from a bona fide session that answered another challenge, injected
    at their original times after `begin` (no screen in between)."""

    def __init__(self, frames: list[tuple[float, Image]]) -> None:
        self.frames = frames

    @property
    def duration_s(self) -> float:
        return self.frames[-1][0] if self.frames else 0.0

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        times = [t for t, _ in self.frames]
        index = min(len(self.frames) - 1, int(np.searchsorted(times, now_s, side="right")) - 1)
        return self.frames[max(0, index)][1]
