"""device.health: WATCHDOG=1 only while the core loop beats and every health check passes."""

from __future__ import annotations

import threading
import time

import pytest

from device.health import Verdict, Watchdog, judge


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def watchdog(self) -> None:
        with self.lock:
            self.sent.append("WATCHDOG=1")

    def status(self, text: str) -> None:
        with self.lock:
            self.sent.append("STATUS=" + text)

    def pings(self) -> int:
        with self.lock:
            return self.sent.count("WATCHDOG=1")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("now", "last_beat", "failing", "expected"),
    [
        (10.0, None, (), Verdict(False, "core loop not running yet")),
        (10.0, 9.0, (), Verdict(True)),
        (10.0, 5.0, (), Verdict(True)),
        (10.0, 4.9, (), Verdict(False, "core loop silent for more than 5 s")),
        (10.0, 9.9, ("outbox",), Verdict(False, "failing health checks: outbox")),
        (10.0, 1.0, ("outbox",), Verdict(False, "core loop silent for more than 5 s")),
    ],
)
def test_judge(now: float, last_beat: float | None, failing: tuple[str, ...],
               expected: Verdict) -> None:
    assert judge(now, last_beat, 5.0, failing) == expected


def test_pings_only_while_beats_are_fresh_and_checks_pass() -> None:
    notifier, clock = Recorder(), Clock()
    healthy = {"outbox": True}
    watchdog = Watchdog(notifier, interval_s=10.0, clock=clock, describe=lambda: "ready: idle")
    watchdog.add_check("outbox", lambda: healthy["outbox"])
    assert not watchdog.tick().ping and notifier.sent == []  # before the first beat: silent
    watchdog.beat()
    clock.now += 4.9
    assert watchdog.tick().ping
    clock.now += 0.2  # 5.1 s since the beat: more than half the interval
    assert not watchdog.tick().ping
    assert not watchdog.tick().ping
    watchdog.beat()
    assert watchdog.tick().ping
    healthy["outbox"] = False
    assert watchdog.tick() == Verdict(False, "failing health checks: outbox")
    assert notifier.sent == [
        "WATCHDOG=1",
        "STATUS=unhealthy: core loop silent for more than 5 s",
        "WATCHDOG=1",
        "STATUS=ready: idle",
        "STATUS=unhealthy: failing health checks: outbox",
    ]
    assert watchdog.status()["pings"] == 2 and watchdog.status()["withheld"] == 4
    assert watchdog.status()["reason"] == "failing health checks: outbox"


def test_a_check_that_raises_counts_as_failing() -> None:
    def broken() -> bool:
        raise OSError("disk gone")

    watchdog = Watchdog(Recorder(), interval_s=10.0, clock=Clock())
    watchdog.add_check("disk", broken)
    watchdog.beat()
    assert watchdog.tick() == Verdict(False, "failing health checks: disk")


def test_without_a_watchdog_interval_no_thread_starts() -> None:
    watchdog = Watchdog(Recorder(), interval_s=None)
    watchdog.start()
    assert not watchdog.enabled and watchdog.status()["interval_s"] is None
    watchdog.stop()


def test_timer_thread_stops_pinging_when_the_loop_hangs() -> None:
    notifier = Recorder()
    watchdog = Watchdog(notifier, interval_s=0.2)  # pings every 50 ms, stale after 100 ms
    stop_beating = threading.Event()

    def core_loop() -> None:
        while not stop_beating.wait(0.01):
            watchdog.beat()

    loop = threading.Thread(target=core_loop)
    loop.start()
    watchdog.start()
    try:
        time.sleep(0.5)
        stop_beating.set()
        loop.join()
        while_beating = notifier.pings()
        time.sleep(0.15)  # allow one ping already decided before the hang
        after_hang = notifier.pings()
        time.sleep(0.5)
        assert notifier.pings() == after_hang
    finally:
        watchdog.stop()
    assert while_beating >= 5
    assert after_hang - while_beating <= 2
