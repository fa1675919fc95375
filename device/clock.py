"""Is the wall clock synchronised? Read from the system, for every decision record.

A Raspberry Pi has no real-time clock, and a home-visit unit may boot with no network: its
clock can be days off. `ClockProbe.read()` says what the system knows:
- the status file systemd-timesyncd touches on each successful synchronisation
  (`/run/systemd/timesync/synchronized`, `device.clock_sync_file`): present means synchronised,
  its mtime is the last synchronisation;
- else the kernel's view through adjtimex(2) (modes 0: read only; TIME_ERROR means
  "unsynchronised"), which chrony and ntpd keep up to date: synchronised, time unknown;
- else not synchronised.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised
TIMEX_BYTES = 512  # larger than struct timex on every Linux ABI; zero = read only
DEFAULT_SYNC_FILE = "/run/systemd/timesync/synchronized"


@dataclass(frozen=True, slots=True)
class ClockState:
    synced: bool
    last_sync_utc: str | None
    since_sync_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"synced": self.synced, "last_sync_utc": self.last_sync_utc,
                "since_sync_s": self.since_sync_s}


def kernel_synced() -> bool | None:
    """adjtimex(2) with modes 0 (allowed unprivileged); None where it cannot be called."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    state = int(adjtimex(ctypes.create_string_buffer(TIMEX_BYTES)))
    return None if state < 0 else state != TIME_ERROR


class ClockProbe:
    def __init__(
        self, sync_file: Path = Path(DEFAULT_SYNC_FILE),
        kernel: Callable[[], bool | None] | None = kernel_synced,
    ) -> None:
        self.sync_file = sync_file
        self._kernel = kernel

    def read(self, now_s: float | None = None) -> ClockState:
        now = time.time() if now_s is None else now_s
        try:
            synced_at = self.sync_file.stat().st_mtime
        except OSError:
            synced_at = None
        if synced_at is not None:
            when = dt.datetime.fromtimestamp(synced_at, dt.UTC)
            stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
            return ClockState(True, stamp, round(max(0.0, now - synced_at), 1))
        if self._kernel is not None and self._kernel():
            return ClockState(True, None, None)
        return ClockState(False, None, None)
