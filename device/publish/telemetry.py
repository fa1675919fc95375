"""The telemetry payload: uptime, clock, version, outbox depth and capacity, last error, model
versions, CPU temperature, the camera and anti-spoofing model in use, and the threshold
decisions are made with (with its admin override flag); the bureau console raises its alarms
from these."""

from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path
from typing import Any


def read_cpu_temp_c(path: Path) -> float | None:
    """CPU temperature from a thermal zone file (millidegrees), or None if absent."""
    try:
        return round(int(path.read_text(encoding="ascii").strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def package_version() -> str:
    try:
        return metadata.version("faceterm")
    except metadata.PackageNotFoundError:
        return "unknown"


class Telemetry:
    def __init__(self, thermal_zone_path: str) -> None:
        self.thermal_zone = Path(thermal_zone_path)
        self.started = time.monotonic()
        self.models: dict[str, str] = {}
        self.camera: dict[str, Any] = {}
        self.antispoof = ""
        self.last_error = ""
        self.decided_with: dict[str, Any] | None = None  # model, threshold, override in use

    def payload(self, outbox_depth: int, link_error: str,
                outbox_capacity: int | None = None) -> dict[str, Any]:
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "time": int(time.time()),
            "version": package_version(),
            "outbox_depth": outbox_depth,
            "outbox_capacity": outbox_capacity,
            "last_error": self.last_error or link_error or None,
            "models": dict(self.models),
            "camera": dict(self.camera) or None,
            "antispoof": self.antispoof or None,
            "cpu_temp_c": read_cpu_temp_c(self.thermal_zone),
            "decided_with": self.decided_with,
        }
