"""What the fleet table says about a kiosk: online or not, and its alarms (pure functions).

Online means the retained availability topic says `online` (the device's last will turns it to
`offline` when the link dies). Alarms come from the last telemetry: outbox near full, the camera
is not the one first seen, the kiosk clock is off from the bureau's, the last self-test failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    outbox_ratio: float = 0.8
    outbox_rows: int = 100_000  # the device default, when telemetry does not say its capacity
    clock_skew_s: float = 120.0


@dataclass(frozen=True, slots=True)
class DeviceState:
    device_id: str
    tenant: str
    status: str | None
    status_ns: int | None
    telemetry: dict[str, Any]
    telemetry_ns: int | None
    first_camera: str | None


def online(state: DeviceState) -> bool:
    return state.status == "online"


def camera_key(camera: Any) -> str | None:
    """A stable text for the camera identity in telemetry (device/camera/identity.py's record,
    without the per-check refusal), so "changed" compares identities, not checks."""
    if isinstance(camera, dict):
        identity = {k: v for k, v in camera.items() if k != "refusal"}
        return json.dumps(identity, sort_keys=True) if identity else None
    return str(camera) if camera else None


def last_seen_ns(state: DeviceState) -> int | None:
    seen = [t for t in (state.status_ns, state.telemetry_ns) if t is not None]
    return max(seen) if seen else None


def alarms(state: DeviceState, policy: AlarmPolicy = AlarmPolicy()) -> tuple[str, ...]:
    tele = state.telemetry
    found = []
    if _outbox_near_full(tele, policy):
        found.append("outbox near full")
    camera = camera_key(tele.get("camera"))
    if camera and state.first_camera and camera != state.first_camera:
        found.append("camera changed")
    if isinstance(tele.get("camera"), dict) and tele["camera"].get("refusal"):
        found.append("camera refused")
    if _clock_off(tele, state.telemetry_ns, policy):
        found.append("clock off")
    if _selftest_failed(tele.get("selftest")):
        found.append("self-test failed")
    return tuple(found)


def _outbox_near_full(tele: dict[str, Any], policy: AlarmPolicy) -> bool:
    depth, capacity = tele.get("outbox_depth"), tele.get("outbox_capacity", policy.outbox_rows)
    if not isinstance(depth, int) or not isinstance(capacity, int) or capacity <= 0:
        return False
    return depth >= policy.outbox_ratio * capacity


def _clock_off(tele: dict[str, Any], received_ns: int | None, policy: AlarmPolicy) -> bool:
    device_time = tele.get("time")
    if not isinstance(device_time, int | float) or received_ns is None:
        return False
    return abs(device_time - received_ns / 1e9) > policy.clock_skew_s


def _selftest_failed(selftest: Any) -> bool:
    if isinstance(selftest, dict):
        return bool(selftest.get("ok") is False)
    return isinstance(selftest, str) and selftest == "failed"
