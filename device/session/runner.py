"""The session runner: drives the pure machine (device/session/machine.py) with real parts.

The daemon's core loop owns it and calls, on its one thread, `on_card`, `on_worker_input`,
`on_consent`, `on_card_removed`, `on_frame` and `on_tick`; each returns at once with the effects
it carried out (views pushed through `on_view`, records handed to `on_record(record,
personal)`, which the daemon wires to Publisher.submit). Frames outside capture and liveness
(the consent screen included) are ignored unanalysed, so a slow inference never builds a queue
here: the event bus drops surplus frames upstream.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from device.camera.base import Frame
from device.camera.identity import UNCHECKED, CameraCheck
from device.clock import ClockProbe, ClockState
from device.liveness.api import Prompt
from device.liveness.plan import AttemptPlan
from device.match.adapt import AdaptPolicy
from device.match.matcher import Matcher
from device.match.templates import Reference
from device.match.thresholds import DecidedWith
from device.messages import catalogue
from device.redact import mask_id
from device.session import machine as m
from device.session.adaptation import SeenAtPass, updated_reference
from device.session.capture import Candidate, CaptureWindow
from device.session.decisions import (
    accept,
    liveness_outcome,
    liveness_score,
    prompt_key,
    prompt_view,
    show_view,
)
from device.session.ports import AdaptedReferences, CardLike, LivenessPort, References
from device.session.record import Outcome, build_record, personal_data
from device.session.settings import QualitySettings
from device.vision.align import align_face, five_points
from device.vision.quality import assess
from device.vision.types import AnalyzerPort, EmbedderPort, Vector

log = logging.getLogger(__name__)

ViewSink = Callable[[dict[str, Any]], None]
RecordSink = Callable[[dict[str, Any], dict[str, str]], None]


PhotoReference = Callable[[CardLike], Reference | None]


# Embed every n-th liveness frame for the probe's identity-continuity check (SFace costs
# 20-40 ms a frame on x86, several times that on a Pi).
EMBED_EVERY_N_FRAMES = 3
Readiness = Callable[[], str | None]  # why no session can start now (None: one can)


class SessionRunner:
    """One verification at a time; not thread-safe (the core loop is its only caller)."""

    def __init__(
        self,
        rules: m.Rules,
        quality: QualitySettings,
        analyzer: AnalyzerPort,
        embedder: EmbedderPort,
        matcher: Matcher,
        references: References,
        on_view: ViewSink,
        on_record: RecordSink,
        device_id: str,
        liveness: LivenessPort | None = None,
        photo_reference: PhotoReference | None = None,
        clock_utc: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        best_frames: int = 3,
        decided_with: DecidedWith | None = None,
        clock_state: Callable[[], ClockState] | None = None,
        readiness: Readiness = lambda: None,
        adaptation: AdaptPolicy | None = None,
        adapted: AdaptedReferences | None = None,
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
        self.decided_with = decided_with or DecidedWith(
            embedder.model_id, matcher.threshold, False)
        self._clock_state = clock_state or ClockProbe().read
        self._readiness = readiness
        # [session] reference_adaptation: after a confident pass the adapted reference is
        # stored through `adapted` (the template store); None: references never change.
        self._adaptation = adaptation if adapted is not None else None
        self._adapted = adapted
        self._live = False
        self._seen: SeenAtPass | None = None
        self._unrecorded = False  # the last Decide could not be stored: its screen is not shown
        self._session = m.Session()
        self._window = CaptureWindow(best_frames, quality.motion_frames)
        self._reference: Reference | None = None
        self._name = ""
        self._card: CardLike | None = None
        self._prompt_key: tuple[Any, ...] | None = None
        self._liveness_frames = 0
        self._liveness_embeddings: collections.deque[Vector] = collections.deque(maxlen=30)
        self._messages = catalogue()
        self.last_record: dict[str, Any] | None = None
        self.counters = {"sessions": 0, "frames": 0, "records": 0, "records_refused": 0,
                         "refused_unavailable": 0}
        self.camera = CameraCheck(UNCHECKED)
        self.unavailable: str | None = None

    # ---- calls from the core loop ------------------------------------------------------------

    def state(self) -> str:
        return self._session.phase.value

    def on_card(self, card: CardLike, now_s: float) -> list[m.Effect]:
        """A validated card was read: look up the reference and start a session."""
        return self._identify(card.id_number, now_s, "card", True, card)

    def on_worker_input(self, id_number: str, consent: bool, now_s: float,
                        notice_version: str = "") -> list[m.Effect]:
        """A home-visit worker keyed the number in (with the person's consent answer)."""
        return self._identify(id_number, now_s, "worker", consent, None, notice_version)

    def on_consent(self, accepted: bool, notice_version: str, assisted: bool,
                   now_s: float) -> list[m.Effect]:
        """The answer on the kiosk's consent screen. The reference is read only after an
        acceptance; a refusal is recorded without any biometric processing."""
        if self._session.phase is not m.Phase.CONSENT:
            log.info("session: consent answer ignored, none was asked")
            return []
        reference = None
        if accepted:
            reference = self._lookup(self._session.id_number, self._card)
        self._reference = reference
        event = m.ConsentAnswer(now_s, accepted, notice_version, assisted,
                                reference is not None, self.camera.refusal)
        return self._feed(event)

    def on_camera(self, check: CameraCheck) -> None:
        """The camera was (re)started: its identity goes into every record from now on, and a
        refused camera refers every new session with its reason code."""
        self.camera = check

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
        return {
            "state": self.state(),
            "attempt": self._session.attempt,
            "unavailable": self._readiness(),  # e.g. the templates held, the outbox full
            "decided_with": self.decided_with.as_dict(),
            **self.counters,
        }

    # ---- internals ----------------------------------------------------------------------------

    def _identify(
        self, id_number: str, now_s: float, source: str, consent: bool, card: CardLike | None,
        notice_version: str = "",
    ) -> list[m.Effect]:
        if self._session.phase not in (m.Phase.IDLE, m.Phase.DECIDED):
            log.info("session: identity %s ignored, a session is running", mask_id(id_number))
            return []
        self.unavailable = self._readiness()
        if self.unavailable is not None:
            self.counters["refused_unavailable"] += 1
            log.error("session: not started, out of service: %s", self.unavailable)
            self._push_view(m.Show("idle", "out_of_service"))
            return []
        asks = source == "card" and self.rules.kiosk_consent  # nothing read before the answer
        reference = self._lookup(id_number, card) if consent and not asks else None
        self._reference = reference
        self._card = card
        self._name = card.name if card is not None else ""
        self._window.reset()  # no measurement of the previous person reaches this record
        self.counters["sessions"] += 1
        kind: Any = source
        event = m.Identify(now_s, id_number, reference is not None, kind, consent,
                           self.camera.refusal, notice_version)
        return self._feed(event)

    def _lookup(self, id_number: str, card: CardLike | None) -> Reference | None:
        try:
            found = self.references.get(id_number)
        except Exception:  # an unreadable template must end in no_reference, not a crash
            log.exception("session: template of %s unreadable", mask_id(id_number))
            found = None
        if found is None and card is not None and self._photo_reference is not None:
            found = self._photo_reference(card)
        return found

    def _capture(self, frame: Frame, now_s: float) -> list[m.Effect]:
        faces = self.analyzer.track(frame.rgb, lores=frame.lores)
        aligned = None
        points = None
        if len(faces) == 1:
            points = five_points(faces[0])
            aligned = align_face(frame.rgb, points)
        history = self._window.track(points)
        report = assess(frame.rgb, faces, aligned, history, self.quality)
        self._window.note(report.issues)
        if report.ok and aligned is not None:
            self._window.offer(Candidate(report.score, aligned, report.metrics))
        return self._feed(m.FrameChecked(now_s, report.issues))

    def _liveness_frame(self, frame: Frame, now_s: float) -> list[m.Effect]:
        assert self.liveness is not None
        eyes = self.liveness.needs_eyes(now_s)  # the iris model only while an eye is measured
        faces = self.analyzer.track(frame.rgb, with_iris=eyes, lores=frame.lores)
        face = faces[0] if len(faces) == 1 else None  # two faces: a helper in view (a pause)
        embedding = None
        self._liveness_frames += 1
        if face is not None and self._liveness_frames % EMBED_EVERY_N_FRAMES == 1:
            embedding = self.embedder.embed(align_face(frame.rgb, five_points(face)))
            self._liveness_embeddings.append(embedding)
        self.liveness.observe(frame, face, embedding, now_s, len(faces) > 1)
        return self._poll_liveness(now_s)

    def _poll_liveness(self, now_s: float) -> list[m.Effect]:
        assert self.liveness is not None
        verdict = self.liveness.verdict(now_s)
        if verdict is not None:
            outcome: Any = liveness_outcome(verdict)
            self._live = outcome == "live"
            reasons = tuple(str(r) for r in verdict.reasons)
            done = m.LivenessDone(now_s, outcome, liveness_score(verdict), reasons,
                                  verdict.retry_guidance, verdict.pauses, verdict.done_well,
                                  verdict.failed)  # fmt: skip
            return self._feed(done)
        prompt = self.liveness.prompt(now_s)
        if prompt is not None:
            self._show_prompt(prompt)
        return []

    def _feed(self, event: m.Event) -> list[m.Effect]:
        """Step the machine and carry out its effects (which may feed further events)."""
        self._session, effects = m.step(self._session, event, self.rules)
        done: list[m.Effect] = []
        for effect in effects:
            if isinstance(effect, m.Show) and effect.decision is not None and self._unrecorded:
                effect = m.Show("idle", "out_of_service")  # never a decision that is not stored
            done.append(effect)
            done += self._apply(effect)
        return done

    def _apply(self, effect: m.Effect) -> list[m.Effect]:
        if isinstance(effect, m.Show):
            self._push_view(effect)
        elif isinstance(effect, m.StartCapture):
            self.analyzer.reset_track()
            self._window.reset()
            self._liveness_embeddings.clear()
            self._live, self._seen = False, None
        elif isinstance(effect, m.StartLiveness):
            self._prompt_key = None
            self._liveness_frames = 0
            if self.liveness is not None:
                plan = AttemptPlan(effect.slow, effect.attempt, effect.done_well,
                                   effect.failed_last)  # fmt: skip
                self.liveness.begin(effect.now_s, plan)
        elif isinstance(effect, m.StartMatch):
            return self._match(effect.now_s)
        elif isinstance(effect, m.Decide):
            self._unrecorded = not self._publish(effect)
        return []

    def _match(self, now_s: float) -> list[m.Effect]:
        reference = self._reference
        best = self._window.best()
        if reference is None or not best:
            return self._feed(m.MatchDone(now_s, False, float("nan")))
        if reference.model != self.embedder.model_id:
            log.warning(
                "session: reference made with %s, matching with %s",
                reference.model,
                self.embedder.model_id,
            )
        probes = [self.embedder.embed(c.crop) for c in best]
        result = self.matcher.match(probes, reference.embedding)
        during = None
        if self._liveness_embeddings:  # the face that did the liveness actions
            during = self.matcher.match(self._liveness_embeddings, reference.embedding)
        verdict = accept(result, during)
        self._seen = self._evidence(probes, verdict.score, reference, len(best))
        log.info(
            "session: match %.3f (threshold %.3f, %d frames)",
            verdict.score,
            result.threshold,
            result.frames,
        )
        return self._feed(m.MatchDone(now_s, verdict.accepted, verdict.score))

    def _evidence(self, probes: list[Vector], score: float, reference: Reference,
                  frames: int) -> SeenAtPass | None:  # fmt: skip
        """What a pass would give the reference adaptation (None when it is off)."""
        if self._adaptation is None:
            return None
        enrolment = reference.enrolment()  # the same faces must still match the enrolment
        original = self.matcher.match(probes, enrolment).score
        if self._liveness_embeddings:
            original = min(original, self.matcher.match(self._liveness_embeddings, enrolment).score)
        return SeenAtPass(tuple(probes), score, original, self._live,
                            frames >= self.matcher.top_n)  # fmt: skip

    def _adapt_reference(self, decide: m.Decide) -> bool:
        """After a confident pass, store the adapted reference (True if it was updated)."""
        reference, seen, policy = self._reference, self._seen, self._adaptation
        if decide.decision != "pass" or reference is None or seen is None or policy is None:
            return False
        new = updated_reference(reference, seen, self.matcher.threshold, policy)
        if new is None or self._adapted is None:
            return False
        try:
            self._adapted.put_adapted(reference.subject, reference.model, new)
        except Exception:  # the pass stands; the reference just stays as it was
            log.exception("session: the adapted reference could not be stored")
            return False
        return True

    def _models(self) -> dict[str, str]:
        return {**self.analyzer.model_ids, "embed": self.embedder.model_id}

    def _publish(self, decide: m.Decide) -> bool:
        """Build the record and store it durably; False if it could not be stored."""
        scores = dict(decide.scores)
        reasons = decide.reasons
        if decide.source == "worker":
            reasons = (*reasons, "worker_input")
        outcome = Outcome(
            decision=decide.decision,
            reasons=reasons,
            attempt=decide.attempt,
            subject=self.references.subject(decide.id_number),
            match=scores.get("match"),
            liveness=scores.get("liveness"),
            quality=self._window.best_score(),
            quality_summary=self._window.summary(),
            models=self._models(),
            timings_ms=dict(decide.timings_ms),
            camera=self.camera.identity.record(),
            decided_with=self.decided_with,
            clock=self._clock_state(),
            consent=decide.consent,
            assisted=decide.assisted,
            reference_updated=self._adapt_reference(decide),
            challenge=dict(decide.challenge),
        )
        record = build_record(outcome, self._device_id, self._clock_utc())
        self.last_record = record
        self.counters["records"] += 1
        log.info(
            "session: %s for %s (attempt %d, reasons %s)",
            decide.decision,
            mask_id(decide.id_number),
            decide.attempt,
            ",".join(reasons) or "-",
        )
        try:
            self._on_record(record, personal_data(decide.id_number, self._name))
        except Exception as exc:  # the outbox refused: the person is sent to a window instead
            self.counters["records_refused"] += 1
            self.unavailable = str(exc)
            log.error("session: the decision could not be stored (%s); not shown", exc)
            return False
        return True

    def _slow(self) -> bool:
        return self._session.phase is not m.Phase.IDLE and m.is_slow(self._session, self.rules)

    def _push_view(self, show: m.Show) -> None:
        self._on_view({**show_view(show, self._messages, self._slow()),
                       "assisted": self._session.assisted})

    def _show_prompt(self, prompt: Prompt) -> None:
        key = prompt_key(prompt)
        if key == self._prompt_key:
            return
        self._prompt_key = key
        self._on_view({**prompt_view(prompt, self._messages, self._slow()),
                       "assisted": self._session.assisted})
