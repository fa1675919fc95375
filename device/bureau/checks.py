"""Pure decisions of the bureau receiver: freshness of `iat` and sequence continuity.

No I/O, no clock: the caller passes `now_s` and what the store knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Freshness:
    """How far `iat` may lie behind or ahead of the bureau's clock (seconds)."""

    max_age_s: int = 30 * DAY_S
    max_ahead_s: int = 300


@dataclass(frozen=True, slots=True)
class Fresh:
    refused: str | None  # a Rejected reason, or None
    clock_unsynced: bool  # accepted on the strength of its sequence, flagged


def clock_synced(record: dict[str, Any]) -> bool:
    """False only when the device says its clock is not synchronised (record.clock.synced)."""
    clock = record.get("clock")
    return not (isinstance(clock, dict) and clock.get("synced") is False)


def freshness(iat: int, record: dict[str, Any], now_s: float, window: Freshness) -> Fresh:
    """Refuse `iat` outside the window, unless the device declared an unsynchronised clock."""
    if not clock_synced(record):
        return Fresh(None, True)
    if iat < now_s - window.max_age_s:
        return Fresh("stale", False)
    if iat > now_s + window.max_ahead_s:
        return Fresh("from_future", False)
    return Fresh(None, False)


def sequence_event(seq: int, device_seen: bool, epoch_seen: bool, top: int | None) -> str:
    """'first', 'reset' (a new epoch), 'gap', 'next', or 'behind' (the insert decides)."""
    if not device_seen:
        return "first"
    if not epoch_seen or top is None:
        return "reset"
    if seq == top + 1:
        return "next"
    return "gap" if seq > top + 1 else "behind"
