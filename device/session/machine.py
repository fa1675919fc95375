"""The verification session as a pure state machine: `step(session, event, rules)` returns the
next session and the effects to carry out. No I/O, no clock: every event carries `now_s`
(monotonic seconds), and the runner (device/session/runner.py) performs the effects.

    idle -> identified (card read / number keyed in) -> guiding (quality-gated capture)
         -> liveness (skipped when disabled) -> matching -> decided -> idle, or back to guiding
            for another attempt while attempts remain.

Every waiting phase has a timeout (identified, guiding, liveness; decided is held for
`decided_hold_s`). Matching waits for nothing: the runner answers StartMatch with MatchDone in
the same call on the core loop (embedding `best_frames` crops), so it has no timeout and no
`match_timeout` reason. Removing the card cancels; the attempt limit turns the last
failure into "refer". The attempt count survives card removal: reading the same number again
within `attempt_window_s` of a failure continues it.

Pace: an attempt is slow (longer windows, slower speech, `slow_liveness_timeout_s`) when the
kiosk's pace is "slow" or a previous attempt of this visit failed. What the person did in the
visit's earlier attempts (actions done well at the first prompt, the actions the last attempt
could not complete) goes to the next attempt's challenge draw through StartLiveness.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from stdnum.cn import ric

from device.cardreader.events import CardRemoved as CardRemoved
from device.session.settings import SessionSettings


class Phase(StrEnum):
    IDLE = "idle"
    IDENTIFIED = "identified"
    GUIDING = "guiding"
    LIVENESS = "liveness"
    MATCHING = "matching"
    DECIDED = "decided"


# ---- events (and the card reader's CardRemoved, the one type for that fact) --------------


@dataclass(frozen=True, slots=True)
class Identify:
    """A card was read (source "card") or a worker keyed a number in (source "worker")."""

    now_s: float
    id_number: str = field(repr=False)
    has_reference: bool
    source: Literal["card", "worker"] = "card"
    consent: bool = True
    camera_refused: str = ""  # a reason code when the camera is not the trusted one


@dataclass(frozen=True, slots=True)
class FrameChecked:
    """One analysed frame: the quality gates that failed on it (none: a usable frame)."""

    now_s: float
    issues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LivenessDone:
    """`retry_guidance` re-prompts after confusion and `pauses` second-face pauses in the
    attempt; `done_well` / `failed` actions for the next attempt's draw."""

    now_s: float
    outcome: Literal["live", "spoof", "inconclusive"]
    score: float | None = None
    reasons: tuple[str, ...] = ()
    retry_guidance: int = 0
    pauses: int = 0
    done_well: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchDone:
    now_s: float
    accepted: bool
    score: float


@dataclass(frozen=True, slots=True)
class Tick:
    now_s: float


Event = Identify | CardRemoved | FrameChecked | LivenessDone | MatchDone | Tick

# ---- effects ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Show:
    """A UI view to push (the runner adds the texts): `state` per CONTRIBUTING.md."""

    state: str
    code: str
    countdown_s: float | None = None
    progress: float | None = None
    decision: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StartCapture:
    attempt: int


@dataclass(frozen=True, slots=True)
class StartLiveness:
    """Start the probe: the attempt's pace and what the person did earlier in the visit."""

    now_s: float
    slow: bool = False
    attempt: int = 1
    done_well: tuple[str, ...] = ()
    failed_last: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StartMatch:
    now_s: float


@dataclass(frozen=True, slots=True)
class Decide:
    """The session's outcome; the runner builds, signs and stores the decision record."""

    decision: str
    reasons: tuple[str, ...]
    attempt: int
    id_number: str = field(repr=False)
    source: str
    scores: tuple[tuple[str, float], ...]
    timings_ms: tuple[tuple[str, float], ...]
    challenge: tuple[tuple[str, object], ...] = ()


Effect = Show | StartCapture | StartLiveness | StartMatch | Decide

# ---- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """The machine's parameters (from [session] and [liveness] enabled)."""

    max_attempts: int = 3
    attempt_window_s: float = 1800.0
    identify_timeout_s: float = 60.0
    capture_timeout_s: float = 30.0
    liveness_timeout_s: float = 45.0
    decided_hold_s: float = 5.0
    capture_frames: int = 5
    slow_liveness_timeout_s: float = 90.0
    pace: str = "standard"
    liveness_enabled: bool = True

    @classmethod
    def from_settings(cls, s: SessionSettings, liveness_enabled: bool) -> Rules:
        names = [f.name for f in dataclasses.fields(cls) if f.name != "liveness_enabled"]
        return cls(**{n: getattr(s, n) for n in names}, liveness_enabled=liveness_enabled)


@dataclass(frozen=True, slots=True)
class Session:
    phase: Phase = Phase.IDLE
    id_number: str = field(default="", repr=False)
    source: str = ""
    attempt: int = 0
    entered_s: float = 0.0
    good_frames: int = 0
    last_issue: str = ""
    retry: bool = False
    scores: tuple[tuple[str, float], ...] = ()
    marks: tuple[tuple[str, float], ...] = ()
    # Failed attempts of the last person identified, and when the last one failed.
    failed_id: str = field(default="", repr=False)
    failures: int = 0
    failed_at_s: float = 0.0
    # This attempt's challenge counters, and the visit's history for the next draw.
    retry_guidance: int = 0
    pauses: int = 0
    done_well: tuple[str, ...] = ()
    failed_last: tuple[str, ...] = ()


Result = tuple[Session, tuple[Effect, ...]]
TIMEOUT_REASONS = {
    Phase.IDENTIFIED: "identify_timeout",
    Phase.GUIDING: "capture_timeout",
    Phase.LIVENESS: "liveness_timeout",
}


def is_slow(s: Session, r: Rules) -> bool:
    """Slow pace: the kiosk's setting, or any attempt after a failed one in this visit."""
    return r.pace == "slow" or s.attempt > 1


def _challenge(s: Session, r: Rules) -> tuple[tuple[str, object], ...]:
    pace = "slow" if is_slow(s, r) else "standard"
    return (("retry_guidance", s.retry_guidance), ("second_face_pauses", s.pauses),
            ("pace", pace))  # fmt: skip


def _enter(s: Session, phase: Phase, now_s: float, **changes: object) -> Session:
    marks = (*s.marks, (phase.value, now_s))
    return dataclasses.replace(s, phase=phase, entered_s=now_s, marks=marks, **changes)  # type: ignore[arg-type]


def _liveness_ceiling(s: Session, r: Rules) -> float:
    return r.slow_liveness_timeout_s if is_slow(s, r) else r.liveness_timeout_s


def _timeout_of(s: Session, r: Rules) -> float:
    return {
        Phase.IDENTIFIED: r.identify_timeout_s,
        Phase.GUIDING: r.capture_timeout_s,
        Phase.LIVENESS: _liveness_ceiling(s, r),
        Phase.DECIDED: r.decided_hold_s,
    }.get(s.phase, float("inf"))


def _timings(s: Session, now_s: float) -> tuple[tuple[str, float], ...]:
    """Milliseconds spent in each phase of this attempt, and the attempt's total."""
    marks = [*s.marks, ("decided", now_s)]
    spent: dict[str, float] = {}
    for (name, start), (_, end) in itertools.pairwise(marks):
        spent[name] = spent.get(name, 0.0) + (end - start) * 1000.0
    spent["total"] = (now_s - marks[0][1]) * 1000.0
    return tuple((k, round(v, 1)) for k, v in spent.items())


def _decide(
    s: Session, now_s: float, decision: str, reasons: tuple[str, ...], r: Rules
) -> Result:
    effect = Decide(
        decision, reasons, s.attempt, s.id_number, s.source, s.scores, _timings(s, now_s),
        _challenge(s, r),
    )
    nxt = _enter(s, Phase.DECIDED, now_s, retry=decision == "fail")
    if decision in ("fail", "refer"):
        nxt = dataclasses.replace(nxt, failed_id=s.id_number, failures=s.attempt, failed_at_s=now_s)
    elif decision == "pass":
        nxt = dataclasses.replace(nxt, failed_id="", failures=0, failed_at_s=0.0)
    view = Show("decided", decision, decision=decision, reasons=reasons)
    return nxt, (effect, view)  # the record is stored durably before the person is told


def _failed_attempt(s: Session, now_s: float, reasons: tuple[str, ...], r: Rules) -> Result:
    if s.attempt >= r.max_attempts:
        return _decide(s, now_s, "refer", (*reasons, "attempts_exhausted"), r)
    return _decide(s, now_s, "fail", reasons, r)


def _identify(s: Session, e: Identify, r: Rules) -> Result:
    if e.source == "worker" and not e.consent:
        return s, (Show("idle", "consent_required"),)
    if not ric.is_valid(e.id_number):
        return s, (Show("idle", "id_invalid"),)
    number = str(ric.compact(e.id_number))
    recent = e.now_s - s.failed_at_s <= r.attempt_window_s
    earlier = s.failures if number == s.failed_id and recent else 0
    fresh = Session(failed_id=s.failed_id, failures=s.failures, failed_at_s=s.failed_at_s)
    s = _enter(
        fresh, Phase.IDENTIFIED, e.now_s, id_number=number, source=e.source, attempt=earlier + 1
    )
    if earlier >= r.max_attempts:
        return _decide(s, e.now_s, "refer", ("attempts_exhausted",), r)
    if e.camera_refused:  # no capture through a swapped or virtual camera
        return _decide(s, e.now_s, "refer", (e.camera_refused,), r)
    if not e.has_reference:
        return _decide(s, e.now_s, "no_reference", ("no_reference",), r)
    view = Show("identified", "card_read", countdown_s=r.identify_timeout_s)
    return s, (view, StartCapture(s.attempt))


def _frame(s: Session, e: FrameChecked, r: Rules) -> Result:
    if s.phase is Phase.IDENTIFIED:
        if not e.issues or e.issues[0] != "no_face":
            s = _enter(s, Phase.GUIDING, e.now_s)
        else:
            return dataclasses.replace(s, last_issue="no_face"), ()
    remaining = max(0.0, s.entered_s + r.capture_timeout_s - e.now_s)
    if e.issues:
        nxt = dataclasses.replace(s, last_issue=e.issues[0])
        return nxt, (Show("guiding", e.issues[0], countdown_s=remaining),)
    good = s.good_frames + 1
    if good < r.capture_frames:
        view = Show(
            "guiding",
            "hold_still",
            countdown_s=remaining,
            progress=round(good / r.capture_frames, 3),
        )
        return dataclasses.replace(s, good_frames=good), (view,)
    s = dataclasses.replace(s, good_frames=good)
    if r.liveness_enabled:
        view = Show("challenge", "liveness", countdown_s=_liveness_ceiling(s, r))
        start = StartLiveness(e.now_s, is_slow(s, r), s.attempt, s.done_well, s.failed_last)
        return _enter(s, Phase.LIVENESS, e.now_s), (view, start)
    return _to_matching(s, e.now_s)


def _to_matching(s: Session, now_s: float) -> Result:
    return _enter(s, Phase.MATCHING, now_s), (Show("matching", "matching"), StartMatch(now_s))


def _liveness(s: Session, e: LivenessDone, r: Rules) -> Result:
    if e.score is not None:
        s = dataclasses.replace(s, scores=(*s.scores, ("liveness", e.score)))
    done = tuple(dict.fromkeys((*s.done_well, *e.done_well)))
    s = dataclasses.replace(s, retry_guidance=e.retry_guidance, pauses=e.pauses,
                            done_well=done, failed_last=e.failed)  # fmt: skip
    if e.outcome == "live":
        return _to_matching(s, e.now_s)
    # "Could not complete" and "attack suspected" are different findings in the record.
    finding = "liveness_spoof" if e.outcome == "spoof" else "liveness_incomplete"
    return _failed_attempt(s, e.now_s, (finding, *e.reasons), r)


def _match(s: Session, e: MatchDone, r: Rules) -> Result:
    s = dataclasses.replace(s, scores=(*s.scores, ("match", e.score)))
    if e.accepted:
        return _decide(s, e.now_s, "pass", (), r)
    return _failed_attempt(s, e.now_s, ("match_below_threshold",), r)


def _tick(s: Session, e: Tick, r: Rules) -> Result:
    if s.phase is Phase.IDLE or e.now_s - s.entered_s < _timeout_of(s, r):
        return s, ()
    if s.phase is not Phase.DECIDED:
        reasons = (TIMEOUT_REASONS[s.phase], *((s.last_issue,) if s.last_issue else ()))
        return _decide(s, e.now_s, "timeout", reasons, r)
    if s.retry:
        nxt = Session(
            id_number=s.id_number,
            source=s.source,
            attempt=s.attempt + 1,
            failed_id=s.failed_id,
            failures=s.failures,
            failed_at_s=s.failed_at_s,
            done_well=s.done_well,
            failed_last=s.failed_last,
        )
        nxt = _enter(nxt, Phase.GUIDING, e.now_s)
        view = Show("guiding", "retry", countdown_s=r.capture_timeout_s)
        return nxt, (view, StartCapture(nxt.attempt))
    return _idle(s), (Show("idle", "insert_card"),)


def _idle(s: Session) -> Session:
    return Session(failed_id=s.failed_id, failures=s.failures, failed_at_s=s.failed_at_s)


def _removed(s: Session, e: CardRemoved, r: Rules) -> Result:
    if s.phase is Phase.IDLE or s.source == "worker":
        return s, ()
    if s.phase is Phase.DECIDED:
        return _idle(s), (Show("idle", "insert_card"),)
    nxt, effects = _decide(s, e.now_s, "cancelled", ("card_removed",), r)
    return dataclasses.replace(nxt, retry=False), effects


def step(s: Session, e: Event, r: Rules) -> Result:
    """The next session and the effects to carry out, for one event."""
    if isinstance(e, Tick):
        return _tick(s, e, r)
    if isinstance(e, CardRemoved):
        return _removed(s, e, r)
    if isinstance(e, Identify):
        return _identify(s, e, r) if s.phase in (Phase.IDLE, Phase.DECIDED) else (s, ())
    if isinstance(e, FrameChecked) and s.phase in (Phase.IDENTIFIED, Phase.GUIDING):
        return _frame(s, e, r)
    if isinstance(e, LivenessDone) and s.phase is Phase.LIVENESS:
        return _liveness(s, e, r)
    if isinstance(e, MatchDone) and s.phase is Phase.MATCHING:
        return _match(s, e, r)
    return s, ()
