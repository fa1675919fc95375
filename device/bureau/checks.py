"""Pure checks the bureau makes on a verified result before it stores it.

Freshness: `iat` must lie within [now - max_age_s, now + max_ahead_s] (default 30 days back,
5 minutes ahead); a result whose record says the device clock was not synchronised
(`record.clock.synced == false`: a Raspberry Pi has no real-time clock and a home-visit unit
may boot with no network) is not refused for its time but flagged, and ordered by its seq.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from device.publish.envelope import Rejected


@dataclass(frozen=True, slots=True)
class Freshness:
    max_age_s: float = 30 * 86400.0
    max_ahead_s: float = 300.0


def clock_unsynced(record: Mapping[str, Any]) -> bool:
    clock = record.get("clock")
    return isinstance(clock, dict) and clock.get("synced") is False


def check_fresh(iat: int, record: Mapping[str, Any], now_s: float, rule: Freshness) -> bool:
    """True if the record's clock was unsynchronised (flag it); Rejected if stale or early."""
    if clock_unsynced(record):
        return True
    if iat < now_s - rule.max_age_s:
        raise Rejected("stale", "iat older than the freshness window")
    if iat > now_s + rule.max_ahead_s:
        raise Rejected("future", "iat ahead of the bureau clock")
    return False


def tenant_of(registered: str | None, topic_tenant: str) -> str:
    """The registry's tenant; a result published under another tenant's topic is refused."""
    if registered is not None and registered != topic_tenant:
        raise Rejected("tenant_mismatch", "topic tenant differs from the registry")
    return registered or topic_tenant
