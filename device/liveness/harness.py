"""The closed-loop harness: whole sessions through the production frame loop, on virtual time.

Anything that answers `frame(prompt, now_s) -> 640x480 RGB image` (a `Scene`) stands in front
of the kiosk. The harness builds the real SessionRunner (device/session/runner.py, the code path
of the daemon and `faceterm verify`) and feeds it through device.session.offline.drive at the
production camera settings (640x480, 15 fps): capture frames through the quality gates, then
liveness frames followed by the tracker (FaceAnalyzer.track; iris while the probe measures an
eye), exactly one face, an embedding every
runner.EMBED_EVERY_N_FRAMES frames, then the 1:1 match against a reference enrolled from a
frame of the same person. The scene sees what a person sees on the screen: the code, countdown
and flash colour of the last view the runner pushed (`prompt_of`).

Usage (bona fide or attack, any scene; `attacks` drives its renderings through it):

    bench = Bench.load("models", LivenessSettings(screen_flash=False))
    result = bench.run(scene, seed=7, reference_rgb=enrolment_photo)
    result.verdict.outcome          # live | spoof | inconclusive (the first attempt's verdict)
    result.verdict.reasons, result.decision, result.record, result.liveness_frames

`reference_rgb` is the enrolled face (default: the scene's own frame at t = -1 s, which a scene
must then answer with a neutral face). Scenes of another size are scaled to 640x480 (`fit`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from device.camera.base import CameraConfig, Frame
from device.errors import CameraError
from device.liveness.antispoof import AntispoofModel
from device.liveness.api import LivenessProbe, LivenessVerdict, Prompt
from device.liveness.plan import AttemptPlan
from device.liveness.settings import LivenessSettings
from device.match.matcher import Matcher, resolve_threshold
from device.match.templates import Reference
from device.session.machine import Rules
from device.session.offline import Collector, drive
from device.session.runner import SessionRunner
from device.session.settings import SessionSettings
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

Image = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]
PRODUCTION = CameraConfig(width=640, height=480, fps=15.0)
SUBJECT_ID = "11010519491231002X"
MAX_SESSION_S = 60.0


class Scene(Protocol):
    """What the camera sees: one RGB frame for the prompt on screen at now_s."""

    def frame(self, prompt: Prompt | None, now_s: float) -> Image: ...


def prompt_of(view: Mapping[str, Any] | None) -> Prompt | None:
    """What a person reads off the kiosk screen: the message code, countdown, colour and the
    guide (arrow, clearer cue, repeats, pause)."""
    code = view.get("code") if view else None
    if view is None or not isinstance(code, str):
        return None
    flash = view.get("flash_rgb")
    colour = (int(flash[0]), int(flash[1]), int(flash[2])) if flash else None
    guide = view.get("guide") or {}
    return Prompt(code, float(view.get("countdown_s") or 0.0), colour,
                  arrow=guide.get("arrow"), clear=bool(guide.get("clear", False)),
                  repeat=int(guide.get("repeat", 0)), paused=bool(guide.get("paused", False)))


def fit(rgb: Image, config: CameraConfig = PRODUCTION) -> Image:
    """rgb at the camera's size (scaled when it differs)."""
    if rgb.shape[:2] == (config.height, config.width):
        return np.ascontiguousarray(rgb, dtype=np.uint8)
    size = (config.width, config.height)
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class SessionResult:
    """`verdict` the first liveness verdict (None when the session never reached liveness);
    `decision` pass | fail | timeout | cancelled (of the first attempt); `frames` the (time,
    image) pairs shown, when recorded; `records` every attempt's record and `verdicts` every
    liveness verdict, in order; `ended_s` the virtual time the run stopped at."""

    verdict: LivenessVerdict | None
    decision: str
    reasons: tuple[str, ...]
    record: dict[str, Any]
    liveness_frames: int
    actions: tuple[str, ...]
    frames: list[tuple[float, Image]] = field(default_factory=list, repr=False)
    records: tuple[dict[str, Any], ...] = ()
    verdicts: tuple[LivenessVerdict, ...] = ()
    ended_s: float = 0.0


class _RecordingProbe:
    """The real probe, remembering its verdicts and the frames it was fed."""

    def __init__(self, probe: LivenessProbe) -> None:
        self.probe = probe
        self.verdicts: list[LivenessVerdict] = []
        self.frames = 0

    def begin(self, now_s: float, plan: AttemptPlan | None = None) -> None:
        self.probe.begin(now_s, plan)

    def prompt(self, now_s: float) -> Prompt | None:
        return self.probe.prompt(now_s)

    def needs_eyes(self, now_s: float) -> bool:
        return self.probe.needs_eyes(now_s)

    def observe(self, frame: Frame, face: Any, embedding: Vector | None, now_s: float,
                crowded: bool = False) -> None:  # fmt: skip
        self.frames += 1
        self.probe.observe(frame, face, embedding, now_s, crowded)

    def verdict(self, now_s: float) -> LivenessVerdict | None:
        verdict = self.probe.verdict(now_s)
        if verdict is not None and (not self.verdicts or self.verdicts[-1] is not verdict):
            self.verdicts.append(verdict)
        return verdict


@dataclass(frozen=True, slots=True)
class _Card:
    id_number: str
    name: str = "bench"


class _OneReference:
    def __init__(self, reference: Reference) -> None:
        self.reference = reference

    def get(self, id_number: str) -> Reference | None:
        return self.reference if id_number == SUBJECT_ID else None

    def subject(self, id_number: str) -> str:
        return "0" * 64


@dataclass
class Bench:
    """The real models and settings, loaded once; `run` one session per call."""

    analyzer: FaceAnalyzer
    embedder: Embedder
    liveness: LivenessSettings
    session: SessionSettings = field(default_factory=SessionSettings)
    antispoof: AntispoofModel | None = None
    camera: CameraConfig = PRODUCTION

    @classmethod
    def load(
        cls,
        models_dir: str | Path,
        liveness: LivenessSettings,
        session: SessionSettings | None = None,
        threads: int = 1,
    ) -> Bench:
        vision = VisionSettings(models_dir=str(models_dir), num_threads=threads)
        analyzer = FaceAnalyzer.load(vision)
        embedder = Embedder.from_settings(vision)
        return cls(analyzer, embedder, liveness, session or SessionSettings())

    def rules(self, attempts: int = 1) -> Rules:
        """The configured session rules for `attempts` attempts in a row (1: one attempt, no
        hold after it, as BPCER is per attempt; more: a visit, held between attempts as the
        kiosk holds them)."""
        rules = Rules.from_settings(self.session, True)
        hold = rules.decided_hold_s if attempts > 1 else 0.0
        return Rules(**{**_fields(rules), "max_attempts": attempts, "decided_hold_s": hold})

    def enrol(self, rgb: Image) -> Reference:
        faces = self.analyzer.analyze(fit(rgb, self.camera), max_faces=1)
        if not faces:
            raise CameraError("no face in the enrolment image")
        crop = align_face(fit(rgb, self.camera), five_points(faces[0]))
        embedding = self.embedder.embed(crop)
        return Reference("bench-subject", self.embedder.model_id, embedding, "bench", 1)

    def run(
        self,
        scene: Scene,
        seed: int,
        reference_rgb: Image | None = None,
        record_frames: bool = False,
        max_s: float = MAX_SESSION_S,
        attempts: int = 1,
    ) -> SessionResult:
        """One session of `scene` (the probe's challenge drawn from `seed`); with attempts > 1
        a visit: attempts in a row until one does not fail."""
        reference = self.enrol(reference_rgb if reference_rgb is not None else
                               scene.frame(None, -1.0))  # fmt: skip
        probe = _RecordingProbe(
            LivenessProbe(self.liveness, np.random.default_rng(seed), self.antispoof)
        )
        sink = Collector()
        runner = self._runner(probe, reference, sink, attempts)
        frames: list[tuple[float, Image]] = []
        runner.on_card(_Card(SUBJECT_ID), 0.0)
        images = self._camera(scene, sink, frames if record_frames else None)
        def over() -> bool:
            records = sink.records
            return bool(records) and (records[-1].get("decision") != "fail" or
                                      len(records) >= attempts)  # fmt: skip

        ended = drive(runner, images, self.camera.fps, over, max_s)
        record = sink.records[0] if sink.records else {}
        return SessionResult(
            verdict=probe.verdicts[0] if probe.verdicts else None,
            decision=str(record.get("decision", "timeout")),
            reasons=tuple(record.get("reasons", ())),
            record=record,
            liveness_frames=probe.frames,
            actions=probe.probe.actions,
            frames=frames,
            records=tuple(sink.records),
            verdicts=tuple(probe.verdicts),
            ended_s=ended,
        )

    def _runner(
        self, probe: _RecordingProbe, reference: Reference, sink: Collector, attempts: int
    ) -> Any:
        s = self.session
        threshold = resolve_threshold(s.match_threshold, self.embedder.threshold, s.match_margin)
        return SessionRunner(
            rules=self.rules(attempts),
            quality=s.quality,
            analyzer=self.analyzer,
            embedder=self.embedder,
            matcher=Matcher(threshold, s.best_frames, s.fusion),
            references=_OneReference(reference),
            on_view=sink.on_view,
            on_record=sink.on_record,
            device_id="bench",
            liveness=probe,
            best_frames=s.best_frames,
        )

    def _camera(
        self, scene: Scene, sink: Collector, keep: list[tuple[float, Image]] | None
    ) -> Iterator[Image]:
        for index in itertools.count():
            now = index / self.camera.fps
            rgb = fit(scene.frame(prompt_of(sink.views[-1] if sink.views else None), now),
                      self.camera)  # fmt: skip
            if keep is not None:
                keep.append((now, rgb))
            yield rgb


def _fields(rules: Rules) -> dict[str, Any]:
    return {name: getattr(rules, name) for name in rules.__dataclass_fields__}
