"""A "segment puppet": a bona fide person made of real footage, for closed-loop sessions.

Between prompts the puppet shows the subject's real resting face (a labelled stretch of the clip
played back and forth at its own rate); on each action prompt, after a human reaction time, it
plays a real labelled segment of the asked action, at the clip's own rate, then rests again. A
head movement is played there and back (the turn, then the same frames in reverse: a real head
returning). Every cut must contain a labelled event of the footage (tests/data/footage_labels.json)
that, as played, is the asked action: a turn played backwards is the opposite turn, and a
mirrored subject (the footage flipped left-right, which keeps its 3-D parallax) turns the other
way. Frames are a fixed crop around the resting face, scaled to the camera size, so the face
stands where a person stands at the kiosk.

Flash model (the footage never saw our screen): while the screen shows colour c (0..255 per
channel), skin reflects it diffusely, pixel' = pixel * (1 + g * c / 255), with g = `face_gain`
on the face (the mesh's hull) and g * (d_face / d_room)^2 = g * (0.35 / 2.0)^2 on the room
behind (light falls off with the square of the distance from the screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from device.errors import ConfigError
from device.liveness.api import Prompt
from device.liveness.footage import CHALLENGE_ACTION, ClipLabels, decode
from device.liveness.messages import prompt_action
from device.vision.analyzer import FaceAnalyzer

Image = npt.NDArray[np.uint8]
OPPOSITE = {"turn_left": "turn_right", "turn_right": "turn_left"}
FACE_DISTANCE_M, ROOM_DISTANCE_M = 0.35, 2.0
REACTION_S = (0.35, 0.9)
FACE_WIDTH_SHARE = 0.45


@dataclass(frozen=True, slots=True)
class Cut:
    """Frames `first`..`last` of the clip (backwards when last < first), then back again when
    `there_and_back`; `event` (start, end) is the labelled event it plays."""

    action: str
    event: tuple[int, int]
    first: int
    last: int
    there_and_back: bool = True

    def frames(self) -> list[int]:
        step = 1 if self.last >= self.first else -1
        out = list(range(self.first, self.last + step, step))
        return out + out[::-1][1:] if self.there_and_back else out


@dataclass(frozen=True, slots=True)
class Subject:
    name: str
    clip: str
    rest: tuple[int, int]
    enrol_frame: int
    cuts: tuple[Cut, ...]
    mirror: bool = False

    def actions(self) -> tuple[str, ...]:
        return tuple(sorted({c.action for c in self.cuts}))


def seen_as(label: str, backwards: bool, mirror: bool) -> str:
    """The action a labelled event shows when played backwards and/or mirrored."""
    action = CHALLENGE_ACTION.get(label, label)
    if backwards:
        action = OPPOSITE.get(action, action)
    return OPPOSITE.get(action, action) if mirror else action


def _woman(mirror: bool) -> Subject:
    """WolfgangLanger_Pexels.mp4: rests smiling with open eyes (253-285); her real blinks next
    to it, her return from a right turn (labelled turn_left 222-236) played backwards from 236
    to 190 and back, and her head going down (nod 440-450)."""
    turn = seen_as("turn_left", backwards=True, mirror=mirror)
    return Subject(
        "woman" + (" (mirrored)" if mirror else ""),
        "WolfgangLanger_Pexels.mp4",
        rest=(253, 285),
        enrol_frame=270,
        cuts=(
            Cut("blink", (247, 251), 244, 254, there_and_back=False),
            Cut("blink", (287, 290), 284, 293, there_and_back=False),
            Cut(turn, (222, 236), 236, 190),
            Cut("nod", (440, 450), 438, 452),
        ),
        mirror=mirror,
    )


SUBJECTS = (_woman(False), _woman(True))


def check(subject: Subject, labels: ClipLabels) -> None:
    """Every cut plays a labelled event that, as played, is its action (ConfigError if not)."""
    for cut in subject.cuts:
        backwards = cut.last < cut.first
        low, high = min(cut.first, cut.last), max(cut.first, cut.last)
        matches = [
            e
            for e in labels.events
            if (e.start, e.end) == cut.event
            and low <= e.start <= e.end <= high
            and seen_as(e.action, backwards, subject.mirror) == cut.action
        ]
        if not matches:
            raise ConfigError(f"{subject.name}: cut {cut} plays no labelled {cut.action}")


class Footage:
    """The subject's frames as the camera sees them (crop, scale, mirror), with face masks."""

    def __init__(self, subject: Subject, footage_dir: Path, analyzer: FaceAnalyzer,
                 size: tuple[int, int] = (640, 480)) -> None:  # fmt: skip
        self.subject = subject
        self.size = size
        self._source = decode(footage_dir / subject.clip)
        self._crop = self._crop_box(analyzer)
        self._frames: dict[int, Image] = {}
        self._masks: dict[int, npt.NDArray[np.float32]] = {}
        self._analyzer = analyzer

    def _crop_box(self, analyzer: FaceAnalyzer) -> tuple[int, int, int, int]:
        low, high = self.subject.rest
        boxes = [f[0].detection.box for i in range(low, high + 1, 4)
                 if (f := analyzer.analyze(self._source[i], max_faces=1))]  # fmt: skip
        if not boxes:
            raise ConfigError(f"{self.subject.name}: no face in the resting frames")
        cx = float(np.median([b.center[0] for b in boxes]))
        cy = float(np.median([b.center[1] for b in boxes]))
        rows, cols = self._source[0].shape[:2]
        aspect = self.size[0] / self.size[1]
        width = min(float(np.median([b.width for b in boxes])) / FACE_WIDTH_SHARE, cols,
                    rows * aspect)  # fmt: skip
        height = width / aspect
        x0 = int(np.clip(cx - width / 2, 0, cols - width))
        y0 = int(np.clip(cy - height * 0.45, 0, rows - height))
        return x0, y0, x0 + int(width), y0 + int(height)

    def frame(self, index: int) -> Image:
        if index not in self._frames:
            x0, y0, x1, y1 = self._crop
            rgb = cv2.resize(self._source[index][y0:y1, x0:x1], self.size,
                             interpolation=cv2.INTER_LINEAR)  # fmt: skip
            rgb = rgb[:, ::-1] if self.subject.mirror else rgb
            self._frames[index] = np.ascontiguousarray(rgb, dtype=np.uint8)
        return self._frames[index]

    def face_mask(self, index: int) -> npt.NDArray[np.float32]:
        """Where the screen light falls on skin: the mesh's hull, softened (1 face, 0 room)."""
        if index not in self._masks:
            rgb = self.frame(index)
            faces = self._analyzer.analyze(rgb, max_faces=1)
            mask = np.zeros(rgb.shape[:2], np.uint8)
            if faces and faces[0].mesh is not None:
                hull = cv2.convexHull(np.round(faces[0].mesh.points[:, :2]).astype(np.int32))
                cv2.fillConvexPoly(mask, hull, (255,))
            self._masks[index] = cv2.GaussianBlur(mask, (0, 0), 3).astype(np.float32) / 255.0
        return self._masks[index]


def reflect(rgb: Image, mask: npt.NDArray[np.float32], colour: tuple[int, int, int],
            face_gain: float) -> Image:  # fmt: skip
    """The flash model of the module docstring."""
    room_gain = face_gain * (FACE_DISTANCE_M / ROOM_DISTANCE_M) ** 2
    gain = room_gain + (face_gain - room_gain) * mask
    light = np.asarray(colour, np.float32) / 255.0
    lit = rgb.astype(np.float32) * (1.0 + gain[..., None] * light[None, None, :])
    return np.asarray(np.clip(lit, 0, 255), dtype=np.uint8)


class Puppet:
    """A Scene (device/liveness/harness.py): the subject answering the prompts on screen."""

    def __init__(self, footage: Footage, fps: float, rng: np.random.Generator,
                 face_gain: float | None = None) -> None:  # fmt: skip
        self.footage = footage
        self.fps = fps
        self.rng = rng
        self.face_gain = float(rng.uniform(0.05, 0.2)) if face_gain is None else face_gain
        self._code: str | None = None
        self._cut: list[int] = []
        self._cut_start_s = 0.0
        self.played: list[str] = []

    def _rest_index(self, now_s: float) -> int:
        low, high = self.footage.subject.rest
        span = high - low
        step = int(max(0.0, now_s) * self.fps) % (2 * span)
        return low + (step if step <= span else 2 * span - step)

    def _on_prompt(self, code: str | None, now_s: float) -> None:
        if code == self._code:
            return
        self._code = code
        action = prompt_action(code) or ""
        cuts = [c for c in self.footage.subject.cuts if c.action == action]
        if cuts:
            cut = cuts[int(self.rng.integers(len(cuts)))]
            self._cut = cut.frames()
            self._cut_start_s = now_s + float(self.rng.uniform(*REACTION_S))
            self.played.append(f"{cut.action}@{cut.event[0]}")

    def source_index(self, prompt: Prompt | None, now_s: float) -> int:
        self._on_prompt(prompt.code if prompt is not None else None, now_s)
        offset = int((now_s - self._cut_start_s) * self.fps)
        if self._cut and 0 <= offset < len(self._cut):
            return self._cut[offset]
        if self._cut and offset >= len(self._cut):
            self._cut = []
        return self._rest_index(now_s)

    def frame(self, prompt: Prompt | None, now_s: float) -> Image:
        if now_s < 0:
            return self.footage.frame(self.footage.subject.enrol_frame)
        index = self.source_index(prompt, now_s)
        rgb = self.footage.frame(index)
        if prompt is not None and prompt.flash_rgb is not None:
            rgb = reflect(rgb, self.footage.face_mask(index), prompt.flash_rgb, self.face_gain)
        return rgb
