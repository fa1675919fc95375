"""The parts the session runner drives, as protocols (the real ones: device.vision.analyzer,
device.vision.embed, device.match.templates, device.liveness.api)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from device.camera.base import Frame
from device.match.templates import Reference
from device.vision.types import FaceObservation

Image = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]


class Analyzer(Protocol):
    model_ids: dict[str, str]

    def analyze(
        self, rgb: Image, with_iris: bool = False, max_faces: int = 2
    ) -> list[FaceObservation]: ...


class Embedder(Protocol):
    @property
    def model_id(self) -> str: ...

    def embed(self, aligned_rgb_112: Image) -> Vector: ...


class References(Protocol):
    def get(self, id_number: str) -> Reference | None: ...

    def subject(self, id_number: str) -> str: ...


class LivenessProbe(Protocol):
    """device/liveness/api.py's probe, as far as the session uses it."""

    def begin(self, now_s: float) -> None: ...

    def prompt(self, now_s: float) -> Any: ...

    def observe(
        self, frame: Frame, face: FaceObservation | None, embedding: Vector | None, now_s: float
    ) -> None: ...

    def verdict(self, now_s: float) -> Any: ...


class CardLike(Protocol):
    @property
    def id_number(self) -> str: ...

    @property
    def name(self) -> str: ...
