"""The decision record (schema faceterm.decision/1, CONTRIBUTING.md), built by the session and
signed by device/publish. It never holds an image, an embedding or a clear ID number: the person
appears only as `subject`, the salted hash of the ID number (device.match.keys.subject_hash);
the clear number and name go beside it, sealed for the bureau, through `personal_data`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device.camera.identity import UNCHECKED
from device.clock import ClockState
from device.match.thresholds import DecidedWith
from device.session.consent import OUTSIDE, Consent

SCHEMA = "faceterm.decision/1"
DECISIONS = frozenset(
    {"pass", "fail", "refer", "timeout", "no_reference", "cancelled", "declined"})
RECORD_KEYS = (
    "schema",
    "decision",
    "reasons",
    "scores",
    "quality",
    "models",
    "timings_ms",
    "attempt",
    "device_id",
    "time_utc",
    "subject",
    "camera",
    "decided_with",
    "clock",
    "consent",
    "assisted",
    "challenge",
    "reference_updated",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the session decided, with the measurements behind it (no personal data)."""

    decision: str
    reasons: tuple[str, ...]
    attempt: int
    subject: str
    decided_with: DecidedWith
    clock: ClockState
    match: float | None = None
    liveness: float | None = None
    quality: float | None = None
    quality_summary: Mapping[str, Any] = field(default_factory=dict)
    models: Mapping[str, str] = field(default_factory=dict)
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    camera: Mapping[str, Any] = field(default_factory=UNCHECKED.record)
    consent: Consent = OUTSIDE
    assisted: bool = False
    # Liveness challenge counters: retry_guidance, second_face_pauses, pace.
    challenge: Mapping[str, Any] = field(default_factory=dict)
    reference_updated: bool = False


def _score(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 4)


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("time_utc needs an aware datetime")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_record(outcome: Outcome, device_id: str, now_utc: dt.datetime) -> dict[str, Any]:
    """The record as plain JSON-ready data, keys exactly as in CONTRIBUTING.md."""
    if outcome.decision not in DECISIONS:
        raise ValueError(f"unknown decision {outcome.decision!r}")
    if len(outcome.subject) != 64 or not all(c in "0123456789abcdef" for c in outcome.subject):
        raise ValueError("subject must be a salted SHA-256 hash (64 hex digits)")
    return {
        "schema": SCHEMA,
        "decision": outcome.decision,
        "reasons": list(outcome.reasons),
        "scores": {
            "match": _score(outcome.match),
            "liveness": _score(outcome.liveness),
            "quality": _score(outcome.quality),
        },
        "quality": dict(outcome.quality_summary),
        "models": dict(outcome.models),
        "timings_ms": {k: round(float(v), 1) for k, v in outcome.timings_ms.items()},
        "attempt": outcome.attempt,
        "device_id": device_id,
        "time_utc": _utc(now_utc),
        "subject": outcome.subject,
        "camera": dict(outcome.camera),
        "decided_with": outcome.decided_with.as_dict(),
        "clock": outcome.clock.as_dict(),
        "consent": outcome.consent.record(),
        "assisted": outcome.assisted,
        "challenge": {"retry_guidance": 0, "second_face_pauses": 0, "pace": "standard",
                      **outcome.challenge},
        "reference_updated": outcome.reference_updated,
    }


def personal_data(id_number: str, name: str = "") -> dict[str, str]:
    """What goes beside the record to Publisher.submit, to be sealed for the bureau only."""
    data = {"id_number": id_number}
    if name:
        data["name"] = name
    return data
