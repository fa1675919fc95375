"""The telemetry payload: uptime, outbox depth, last error, model versions, CPU temperature,
and the threshold decisions are made with (with its admin override flag)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def read_cpu_temp_c(path: Path) -> float | None:
    """CPU temperature from a thermal zone file (millidegrees), or None if absent."""
    try:
        return round(int(path.read_text(encoding="ascii").strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


class Telemetry:
    def __init__(self, thermal_zone_path: str) -> None:
        self.thermal_zone = Path(thermal_zone_path)
        self.started = time.monotonic()
        self.models: dict[str, str] = {}
        self.last_error = ""
        self.decided_with: dict[str, Any] | None = None  # model, threshold, override in use

    def payload(self, outbox_depth: int, link_error: str) -> dict[str, Any]:
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "time": int(time.time()),
            "outbox_depth": outbox_depth,
            "last_error": self.last_error or link_error or None,
            "models": dict(self.models),
            "cpu_temp_c": read_cpu_temp_c(self.thermal_zone),
            "decided_with": self.decided_with,
        }
