"""The parts the session runner drives, as protocols (the real ones: device.vision.analyzer,
device.vision.embed, device.match.templates, device.liveness.api). The vision ones are
device.vision.types.AnalyzerPort and EmbedderPort."""

from __future__ import annotations

from typing import Protocol

from device.camera.base import Frame
from device.liveness.api import LivenessVerdict, Prompt
from device.liveness.plan import AttemptPlan
from device.match.templates import Reference
from device.vision.types import FaceObservation, Vector


class References(Protocol):
    def get(self, id_number: str) -> Reference | None: ...

    def subject(self, id_number: str) -> str: ...


class AdaptedReferences(Protocol):
    """device.match.templates.TemplateStore's adapted references (reference adaptation)."""

    def put_adapted(self, subject: str, model: str, embedding: Vector) -> int: ...


class LivenessPort(Protocol):
    """device/liveness/api.py's LivenessProbe, as far as the session uses it."""

    def begin(self, now_s: float, plan: AttemptPlan | None = None) -> None: ...

    def prompt(self, now_s: float) -> Prompt | None: ...

    def needs_eyes(self, now_s: float) -> bool: ...

    def observe(
        self,
        frame: Frame,
        face: FaceObservation | None,
        embedding: Vector | None,
        now_s: float,
        crowded: bool = False,
    ) -> None: ...

    def verdict(self, now_s: float) -> LivenessVerdict | None: ...


class CardLike(Protocol):
    """device.cardreader.card.IdCard, as far as the session uses it."""

    @property
    def id_number(self) -> str: ...

    @property
    def photo_wlt(self) -> bytes: ...

    @property
    def name(self) -> str: ...
