"""The clock state every record carries, read from the system's own status file (a temporary
path here) and adjtimex(2)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from device.clock import ClockProbe, kernel_synced
from device.config import Config
from device.session.handler import clock_probe


def test_no_sync_file_and_no_kernel_check_means_not_synced(tmp_path: Path) -> None:
    state = ClockProbe(tmp_path / "synchronized", kernel=None).read()
    assert state.as_dict() == {"synced": False, "last_sync_utc": None, "since_sync_s": None}


def test_the_timesyncd_file_gives_the_last_sync_and_the_time_since(tmp_path: Path) -> None:
    marker = tmp_path / "synchronized"
    marker.touch()
    synced_at = time.time() - 3600
    os.utime(marker, (synced_at, synced_at))
    state = ClockProbe(marker, kernel=None).read(now_s=synced_at + 3600.0)
    assert state.synced and state.since_sync_s == 3600.0
    assert state.last_sync_utc is not None and state.last_sync_utc.endswith("Z")


def test_the_probe_follows_the_configured_file(tmp_path: Path) -> None:
    marker = tmp_path / "sync"
    config = Config.model_validate({"device": {"clock_sync_file": str(marker),
                                               "clock_kernel_check": False}})
    probe = clock_probe(config)
    assert not probe.read().synced
    marker.touch()
    assert probe.read().synced


def test_adjtimex_answers_on_this_system() -> None:
    assert kernel_synced() in (True, False)
