"""Frozen data passed between the vision stages (detect, landmarks, quality, liveness, embed),
the array types every module uses, and the two vision seams as protocols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # HxWx3 RGB (or HxW grey), uint8
Vector = npt.NDArray[np.float32]  # an embedding
Points = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in frame pixels."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0


@dataclass(frozen=True, slots=True)
class Detection:
    """A BlazeFace detection. `keypoints` (6x2, frame pixels) in BlazeFace order: the person's
    right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion."""

    box: Box
    score: float
    keypoints: Points


@dataclass(frozen=True, slots=True)
class FaceMesh:
    """face_landmark output mapped back to frame pixels.

    `points` is 468x3 (x, y in frame pixels; z in the same pixel scale, relative depth);
    `presence` the model's face-presence probability; `iris` is 2x5x2 (person's right, left;
    centre first then 4 contour points) in frame pixels, or None when the iris model was not run.
    """

    points: Points
    presence: float
    iris: Points | None = None


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Head rotation in degrees: yaw > 0 when the person turns to their left (the image's right),
    pitch > 0 when looking up, roll > 0 when the head tilts clockwise in the image."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """Everything the per-frame stages know about one face in one frame."""

    detection: Detection
    mesh: FaceMesh | None
    pose: HeadPose | None


class AnalyzerPort(Protocol):
    """device.vision.analyzer.FaceAnalyzer as its users see it: faces in one RGB image (`analyze`)
    or in the next frame of a sequence (`track`, the frame loop's)."""

    @property
    def model_ids(self) -> dict[str, str]: ...

    def analyze(
        self, rgb: Image, with_iris: bool = False, max_faces: int = 2
    ) -> list[FaceObservation]: ...

    def track(
        self, rgb: Image, with_iris: bool = False, lores: Image | None = None
    ) -> list[FaceObservation]: ...

    def reset_track(self) -> None: ...


class EmbedderPort(Protocol):
    """device.vision.embed.Embedder as its users see it: one aligned 112x112 crop -> a vector."""

    @property
    def model_id(self) -> str: ...

    def embed(self, aligned_rgb_112: Image) -> Vector: ...
