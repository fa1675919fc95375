"""The watchdog gate: systemd hears WATCHDOG=1 only while the core loop beats and checks pass.

The core loop calls `beat()` once per iteration. A small timer thread pings systemd every
quarter of the watchdog interval, but only while the last beat is younger than half the
interval and every registered health check passes. A hung core loop (or a failed check)
therefore means silence, and systemd kills and restarts the service after WatchdogSec=:
at most 1.5 intervals after the last beat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

HealthCheck = Callable[[], bool]
JOIN_TIMEOUT_S = 2.0


class WatchdogNotifier(Protocol):
    def watchdog(self) -> None: ...

    def status(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether to ping now, and if not, why (for the log and the status line)."""

    ping: bool
    reason: str = ""


def judge(now_s: float, last_beat_s: float | None, max_age_s: float,
          failing: tuple[str, ...]) -> Verdict:
    """The pure gate: a recent beat and no failing check."""
    if last_beat_s is None:
        return Verdict(False, "core loop not running yet")
    if now_s - last_beat_s > max_age_s:
        return Verdict(False, f"core loop silent for more than {max_age_s:g} s")
    if failing:
        return Verdict(False, "failing health checks: " + ", ".join(failing))
    return Verdict(True)


class Watchdog:
    """Health gate and WATCHDOG=1 timer; a component with start(), stop() and status()."""

    def __init__(self, notifier: WatchdogNotifier, interval_s: float | None,
                 clock: Callable[[], float] = time.monotonic,
                 describe: Callable[[], str] | None = None) -> None:
        """describe: the STATUS text to restore once healthy again (e.g. "ready: idle")."""
        self._notifier = notifier
        self._describe = describe
        self._interval_s = interval_s
        self._clock = clock
        self._checks: dict[str, HealthCheck] = {}
        self._last_beat_s: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pings = 0
        self._withheld = 0
        self._last_reason = ""

    @property
    def enabled(self) -> bool:
        return self._interval_s is not None and self._interval_s > 0

    def add_check(self, name: str, check: HealthCheck) -> None:
        """Register a check; it runs on the timer thread, must be quick and must not block."""
        with self._lock:
            self._checks[name] = check

    def beat(self) -> None:
        """Called by the core loop on every iteration (cheap: one clock read)."""
        self._last_beat_s = self._clock()

    def verdict(self) -> Verdict:
        if self._interval_s is None:
            return Verdict(False, "no watchdog configured")
        return judge(self._clock(), self._last_beat_s, self._interval_s / 2, self._failing())

    def tick(self) -> Verdict:
        """One timer step: judge, then ping or withhold (and say why once per change)."""
        verdict = self.verdict()
        if verdict.ping:
            self._notifier.watchdog()
            self._pings += 1
        else:
            self._withheld += 1
        if self._last_beat_s is None or verdict.reason == self._last_reason:
            return verdict  # starting up (silence expected), or nothing new to say
        if verdict.ping:
            log.info("watchdog: healthy again, pinging")
            if self._describe is not None:
                self._notifier.status(self._describe())
        else:
            log.warning("watchdog: withholding pings: %s", verdict.reason)
            self._notifier.status("unhealthy: " + verdict.reason)
        self._last_reason = verdict.reason
        return verdict

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None

    def status(self) -> dict[str, Any]:
        return {
            "interval_s": self._interval_s,
            "pings": self._pings,
            "withheld": self._withheld,
            "reason": self._last_reason,
            "checks": sorted(self._checks),
        }

    def _run(self) -> None:
        assert self._interval_s is not None
        period = self._interval_s / 4
        try:
            while not self._stop.wait(period):
                self.tick()
        except Exception:  # the timer thread's boundary: silence is the safe failure
            log.exception("watchdog thread failed; systemd will restart the service")

    def _failing(self) -> tuple[str, ...]:
        with self._lock:
            checks = list(self._checks.items())
        failing = []
        for name, check in checks:
            try:
                ok = check()
            except Exception:  # a check that raises counts as failing, with its traceback
                log.exception("health check %s raised", name)
                ok = False
            if not ok:
                failing.append(name)
        return tuple(failing)
