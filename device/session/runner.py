"""The session runner: drives the pure machine (device/session/machine.py) with real parts.

The daemon's core loop owns it and calls, on its one thread, `on_card`, `on_worker_input`,
`on_card_removed`, `on_frame` and `on_tick`; each returns at once with the effects it carried
out (views pushed through `on_view`, records handed to `on_record(record, personal)`, which the
daemon wires to Publisher.submit). Frames outside capture and liveness are ignored unanalysed,
so a slow inference never builds a queue here: the event bus drops surplus frames upstream.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from device.camera.base import Frame
from device.match.matcher import Matcher
from device.match.templates import Reference
from device.messages import catalogue
from device.redact import mask_id
from device.session import machine as m
from device.session.capture import Candidate, CaptureWindow
from device.session.record import Outcome, build_record, personal_data
from device.session.settings import QualitySettings
from device.vision.align import align_face, five_points
from device.vision.quality import assess
from device.vision.types import FaceObservation

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]
ViewSink = Callable[[dict[str, Any]], None]
RecordSink = Callable[[dict[str, Any], dict[str, str]], None]


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


PhotoReference = Callable[[Any], Reference | None]


def liveness_score(verdict: Any) -> float | None:
    """One number for the record from a verdict's `scores` mapping (its `liveness` or `score`
    entry, else the smallest score: the weakest cue decides)."""
    scores = getattr(verdict, "scores", None) or {}
    for key in ("liveness", "score", "live"):
        if key in scores:
            return float(scores[key])
    values = [float(v) for v in scores.values() if isinstance(v, int | float)]
    return min(values) if values else None


class SessionRunner:
    """One verification at a time; not thread-safe (the core loop is its only caller)."""

    def __init__(
        self,
        rules: m.Rules,
        quality: QualitySettings,
        analyzer: Analyzer,
        embedder: Embedder,
        matcher: Matcher,
        references: References,
        on_view: ViewSink,
        on_record: RecordSink,
        device_id: str,
        liveness: LivenessProbe | None = None,
        photo_reference: PhotoReference | None = None,
        clock_utc: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        best_frames: int = 3,
    ) -> None:
        self.rules = rules
        self.quality = quality
        self.analyzer = analyzer
        self.embedder = embedder
        self.matcher = matcher
        self.references = references
        self.liveness = liveness if rules.liveness_enabled else None
        self._on_view = on_view
        self._on_record = on_record
        self._device_id = device_id
        self._photo_reference = photo_reference
        self._clock_utc = clock_utc
        self._session = m.Session()
        self._window = CaptureWindow(best_frames, quality.motion_frames)
        self._reference: Reference | None = None
        self._name = ""
        self._prompt_key: tuple[Any, ...] | None = None
        self._messages = catalogue()
        self.last_record: dict[str, Any] | None = None
        self.counters = {"sessions": 0, "frames": 0, "records": 0}

    # ---- calls from the core loop ------------------------------------------------------------

    def state(self) -> str:
        return self._session.phase.value

    def on_card(self, card: CardLike, now_s: float) -> list[m.Effect]:
        """A validated card was read: look up the reference and start a session."""
        return self._identify(card.id_number, now_s, "card", True, card)

    def on_worker_input(self, id_number: str, consent: bool, now_s: float) -> list[m.Effect]:
        """A home-visit worker keyed the number in (with the person's consent answer)."""
        return self._identify(id_number, now_s, "worker", consent, None)

    def on_card_removed(self, now_s: float) -> list[m.Effect]:
        return self._feed(m.CardRemoved(now_s))

    def on_tick(self, now_s: float) -> list[m.Effect]:
        effects = self._feed(m.Tick(now_s))
        if self._session.phase is m.Phase.LIVENESS and self.liveness is not None:
            effects += self._poll_liveness(now_s)
        return effects

    def on_frame(self, frame: Frame, now_s: float) -> list[m.Effect]:
        phase = self._session.phase
        if phase in (m.Phase.IDENTIFIED, m.Phase.GUIDING):
            self.counters["frames"] += 1
            return self._capture(frame, now_s)
        if phase is m.Phase.LIVENESS and self.liveness is not None:
            self.counters["frames"] += 1
            return self._liveness_frame(frame, now_s)
        return []

    def status(self) -> dict[str, Any]:
        return {"state": self.state(), "attempt": self._session.attempt, **self.counters}
