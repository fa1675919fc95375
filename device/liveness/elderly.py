"""An elderly person at the kiosk, made of real footage: the segment puppet (puppet.py) with a
behaviour profile drawn per person from a seed.

The profile (issue 18, item 8): a reaction of 1-3 s to every prompt; a head turn of 8-15
degrees (the real turn cut played only as far as the mesh measured that many degrees from the
resting face); 20 % mirror confusion (each turn prompt is answered the other way with
probability 0.2: the same real frames flipped left-right about the resting face's centre, so the
face stays where it stands); slow blinks (the real blink cut played at 0.35-1.0 of its rate,
the closed frames held longer); movements at 0.6-1.0 of the clip's rate with a 0.2-0.6 s hold
at the peak; hand tremor (every frame shifted by a whole number of pixels drawn from
{-a, 0, a} in x and y, a = 1 or 2 px per person, so the shifted frames repeat exactly and the
analyzer's answers can be remembered; no rotation); looking at the helper (half the people have
one: a quick glance towards the helper's side, the real turn at the clip's own rate out to
10-15 degrees, held 0.3-1.0 s and back, a mean 10-30 s (exponential) after the last one ended,
whatever the screen says). A person whose answer was not taken (the prompt still
asks) tries again after 1.5-3 s, as people do. The person never sees the challenge plan: she
reads only the prompt code on the screen (harness.prompt_of).

Assumptions beyond the brief are the movement rate, the peak hold and the retry patience; the
nod is the real one (22 degrees of pitch), not shortened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from device.errors import ConfigError
from device.liveness.measures import measure
from device.liveness.puppet import OPPOSITE, Footage
from device.vision.analyzer import FaceAnalyzer

Image = npt.NDArray[np.uint8]
MIRROR_CONFUSION = 0.2
REACTION_S = (1.0, 3.0)
TURN_DEG = (8.0, 15.0)


@dataclass(frozen=True, slots=True)
class Profile:
    """One person's behaviour, drawn by `draw_profile` (the module docstring's ranges)."""

    reaction_s: float
    turn_deg: float
    mirror_confusion: float
    blink_rate: float
    move_rate: float
    peak_hold_s: float
    tremor_px: int
    helper: bool
    glance_every_s: float
    glance_deg: float
    glance_hold_s: float
    patience_s: float

    def as_dict(self) -> dict[str, float | int | bool]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def draw_profile(rng: np.random.Generator) -> Profile:
    def u(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 3)

    return Profile(
        reaction_s=u(*REACTION_S), turn_deg=u(*TURN_DEG), mirror_confusion=MIRROR_CONFUSION,
        blink_rate=u(0.35, 1.0), move_rate=u(0.6, 1.0), peak_hold_s=u(0.2, 0.6),
        tremor_px=int(rng.integers(1, 3)), helper=bool(rng.random() < 0.5),
        glance_every_s=u(10.0, 30.0), glance_deg=u(10.0, 15.0), glance_hold_s=u(0.3, 1.0),
        patience_s=u(1.5, 3.0),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shot:
    """Source frames (clip indices) played at `rate` clip frames per second, `flipped` about the
    resting face's centre; `what` names it for the report."""

    frames: tuple[int, ...]
    rate: float
    flipped: bool
    what: str


class Moves:
    """The subject's real cuts as the camera sees them, measured once: the yaw (mesh degrees
    from the resting face) of every frame of the head-turn cut, so that a turn of d degrees
    plays the cut up to the first frame that reached d."""

    def __init__(self, footage: Footage, analyzer: FaceAnalyzer, fps: float) -> None:
        self.footage = footage
        self.fps = fps
        subject = footage.subject
        self.blinks = [c for c in subject.cuts if c.action == "blink"]
        self.nod = next(c for c in subject.cuts if c.action == "nod")
        self.turn = next(c for c in subject.cuts if c.action in OPPOSITE)
        self._analyzer = analyzer
        faces = analyzer.analyze(footage.frame(subject.enrol_frame), max_faces=1)
        if not faces:
            raise ConfigError(f"{subject.name}: no face in the enrolment frame")
        self.centre_x = round(faces[0].detection.box.center[0])
        low, high = subject.rest
        rest = [y for i in range(low, high + 1, 4) if (y := self._yaw(i)) is not None]
        self.rest_yaw = float(np.median(rest))
        frames = self.turn.frames()
        self.turn_frames = frames[: len(frames) // 2 + 1]  # out to the far end of the turn
        self.turn_reach = self._reach()

    def _yaw(self, index: int) -> float | None:
        rgb = self.footage.frame(index)
        faces = self._analyzer.analyze(rgb, max_faces=1)
        measures = measure(rgb, faces[0]) if faces else None
        return measures.yaw_deg if measures is not None else None

    def _reach(self) -> list[float]:
        """The largest turn (degrees from rest, in the turn's direction) reached by each frame
        of the turn cut (the mesh's yaw falls on a turn to the person's right)."""
        sign = -1.0 if self.turn.action == "turn_right" else 1.0
        reach, best = [], 0.0
        for index in self.turn_frames:
            yaw = self._yaw(index)
            best = max(best, sign * (yaw - self.rest_yaw)) if yaw is not None else best
            reach.append(round(best, 2))
        return reach

    def _flip(self, image: npt.NDArray[Any], interpolation: int) -> npt.NDArray[Any]:
        matrix = np.array([[-1.0, 0.0, 2.0 * self.centre_x], [0.0, 1.0, 0.0]])
        return np.asarray(cv2.warpAffine(image, matrix, self.footage.size, flags=interpolation,
                                         borderMode=cv2.BORDER_REPLICATE))  # fmt: skip

    def image(self, index: int, flipped: bool) -> Image:
        """Source frame `index`, flipped left-right about the resting face's centre."""
        rgb = self.footage.frame(index)
        if not flipped:
            return rgb
        return np.ascontiguousarray(self._flip(rgb, cv2.INTER_NEAREST), np.uint8)

    def mask(self, index: int, flipped: bool) -> npt.NDArray[np.float32]:
        """Where the screen light falls (puppet.Footage.face_mask), flipped with the frame."""
        mask = self.footage.face_mask(index)
        return np.asarray(self._flip(mask, cv2.INTER_LINEAR), np.float32) if flipped else mask

    def turn_shot(self, degrees: float, hold_s: float, rate: float, flipped: bool,
                  what: str) -> Shot:  # fmt: skip
        """The turn cut played until `degrees` (or its end), held, and played back."""
        stop = next((i for i, r in enumerate(self.turn_reach) if r >= degrees),
                    len(self.turn_frames) - 1)  # fmt: skip
        there = self.turn_frames[: stop + 1]
        held = [there[-1]] * round(hold_s * self.fps * rate)
        return Shot(tuple(there + held + there[::-1][1:]), self.fps * rate, flipped, what)


def shifted(rgb: Image, shift: tuple[int, int]) -> Image:
    """The whole frame moved by whole pixels (edges repeated): hand tremor."""
    dx, dy = shift
    if dx == 0 and dy == 0:
        return rgb
    rows, cols = rgb.shape[:2]
    matrix = np.array([[1.0, 0.0, float(dx)], [0.0, 1.0, float(dy)]])
    return np.asarray(cv2.warpAffine(rgb, matrix, (cols, rows), flags=cv2.INTER_NEAREST,
                                     borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)  # fmt: skip
