"""The notify protocol end to end, as systemd would see it from a Type=notify service.

A process runs with NOTIFY_SOCKET bound to a datagram socket of this test and WATCHDOG_USEC
set. The test asserts READY=1, STATUS lines, periodic WATCHDOG=1, no pings while the core loop
is blocked (for longer than the watchdog interval, so systemd would restart the service),
pings again once it runs, and STOPPING=1 on SIGTERM.

The process is the real daemon (device.compose.Kiosk(...).build().run()) started by LAUNCHER
below, a test seam production does not carry: it wraps the core loop's handler in one that
blocks a single tick (as a stuck handler would).
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.kiosk import kiosk_config

REPO = Path(__file__).resolve().parents[2]
WATCHDOG_S = 1.0
HANG_AFTER_S = 1.5
HANG_FOR_S = 2.5

LAUNCHER = r"""
import sys, time
from pathlib import Path
from device.compose import Kiosk
from device.config import load
from device.logsetup import setup_logging


class BlocksOnce:  # the real handler, except that one tick blocks the core loop for_s s

    def __init__(self, inner, after_s, for_s):
        self._inner, self._at, self._for_s = inner, time.monotonic() + after_s, for_s

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def on_tick(self, now_s):
        if self._at is not None and time.monotonic() >= self._at:
            self._at = None
            time.sleep(self._for_s)
        self._inner.on_tick(now_s)


config_path, after_s, for_s = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
setup_logging("INFO")
daemon = Kiosk(load(config_path), config_path).build()
daemon.loop.handler = BlocksOnce(daemon.loop.handler, after_s, for_s)
sys.exit(daemon.run(60.0))
"""


@dataclass
class Receiver:
    """Collects (monotonic time, datagram) from the notify socket on a thread."""

    sock: socket.socket
    got: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.sock.settimeout(0.05)
        while not self.done.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            with self.lock:
                self.got.append((time.monotonic(), data.decode()))

    def messages(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(self.got)

    def wait_for(self, message: str, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for when, text in self.messages():
                if text == message:
                    return when
            time.sleep(0.02)
        raise AssertionError(f"no {message} within {timeout_s} s: {self.messages()}")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    with tempfile.TemporaryDirectory(prefix="ftn", dir="/tmp") as folder:
        path = str(Path(folder) / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        recv = Receiver(sock)
        thread = threading.Thread(target=recv.run, daemon=True)
        thread.start()
        try:
            yield recv, path
        finally:
            recv.done.set()
            thread.join(2)
            sock.close()


def daemon_config(folder: Path) -> Path:
    """The bare daemon: simulated reader with no card, replay camera, state in folder."""
    cards = folder / "cards.json"
    cards.write_text('{"repeat": true, "steps": [{"absent_s": 1.0}]}', encoding="utf-8")
    return kiosk_config(folder, "kiosk-notify", {
        "cardreader": {"type": "sim", "sim_script": str(cards)},
        "camera": {"type": "replay", "replay_path": f"{REPO}/models/golden", "fps": 5.0},
        "ui": {"enabled": False},
    })


def command(folder: Path) -> list[str]:
    launcher = folder / "launch_blocking.py"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    return [sys.executable, str(launcher), str(daemon_config(folder)), str(HANG_AFTER_S),
            str(HANG_FOR_S)]


def pings(messages: list[tuple[float, str]]) -> list[float]:
    return [when for when, text in messages if text == "WATCHDOG=1"]


def test_ready_status_watchdog_hang_and_stopping(receiver: tuple[Receiver, str],
                                                 tmp_path: Path) -> None:
    recv, address = receiver
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6)),
           "PYTHONPATH": str(REPO)}
    env.pop("WATCHDOG_PID", None)
    process = subprocess.Popen(command(tmp_path), cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        ready_at = recv.wait_for("READY=1", timeout_s=30)
        time.sleep(HANG_AFTER_S + HANG_FOR_S + 1.5)  # run, hang, run again
        process.send_signal(signal.SIGTERM)
        stopping_at = recv.wait_for("STOPPING=1", timeout_s=10)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert process.returncode == 0, output
    messages = recv.messages()
    texts = [text for _, text in messages]
    assert texts.index("READY=1") < texts.index("STOPPING=1")
    assert any(text.startswith("STATUS=ready") for text in texts), texts
    unhealthy = [i for i, text in enumerate(texts) if text.startswith("STATUS=unhealthy")]
    assert len(unhealthy) == 1 and texts[unhealthy[0]].startswith(
        "STATUS=unhealthy: core loop silent"), texts
    assert any(text.startswith("STATUS=ready") for text in texts[unhealthy[0]:]), texts

    times = pings(messages)
    assert all(ready_at <= when < stopping_at for when in times)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    longest = max(gaps)
    hang_index = gaps.index(longest)
    # While the loop was blocked systemd heard nothing for longer than WatchdogSec: it would
    # have killed and restarted the service.
    assert longest > WATCHDOG_S and longest >= HANG_FOR_S - WATCHDOG_S
    # Before and after the hang, pings came at least every half interval (period: a quarter).
    assert len(times[: hang_index + 1]) >= 4 and len(times[hang_index + 1:]) >= 2
    assert max(gaps[:hang_index] + gaps[hang_index + 1:]) < WATCHDOG_S / 2, gaps
