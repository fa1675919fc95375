"""The notify protocol end to end, as systemd would see it from a Type=notify service.

A process runs with NOTIFY_SOCKET bound to a datagram socket of this test and WATCHDOG_USEC
set. The test asserts READY=1, STATUS lines, periodic WATCHDOG=1, no pings while the core loop
is blocked (for longer than the watchdog interval, so systemd would restart the service),
pings again once it runs, and STOPPING=1 on SIGTERM.

The process is the real daemon (`python -m device --config CFG run --debug-hang-after S
--debug-hang-for S`) once `faceterm run` has those options; until then it is CORE_STUB below,
which wires device.sdnotify and device.health exactly as the core loop does.
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

CORE_STUB = r"""
import argparse, signal, threading, time
from device.health import Watchdog
from device.logsetup import setup_logging
from device.sdnotify import Notifier

parser = argparse.ArgumentParser()
parser.add_argument("--debug-hang-after", type=float)
parser.add_argument("--debug-hang-for", type=float)
args = parser.parse_args()
setup_logging("INFO")
notifier = Notifier()
watchdog = Watchdog(notifier, notifier.watchdog_interval_s(), describe=lambda: "ready: idle")
watchdog.add_check("outbox", lambda: True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
notifier.status("starting camera")
time.sleep(0.2)  # components start
watchdog.start()
notifier.ready()
notifier.status("ready: idle")
hang_at = time.monotonic() + args.debug_hang_after
try:
    while not stop.wait(0.1):  # the core loop: one bus.get(tick) per iteration, then beat()
        if hang_at is not None and time.monotonic() >= hang_at:
            hang_at = None
            time.sleep(args.debug_hang_for)  # a handler that blocks the loop
        watchdog.beat()
finally:
    notifier.stopping()
    watchdog.stop()
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


def daemon_supports_hang() -> bool:
    result = subprocess.run([sys.executable, "-m", "device", "run", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=30, check=False)
    return "--debug-hang-after" in result.stdout and "--debug-hang-for" in result.stdout


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
    hang = ["--debug-hang-after", str(HANG_AFTER_S), "--debug-hang-for", str(HANG_FOR_S)]
    if daemon_supports_hang():
        return [sys.executable, "-m", "device", "--config", str(daemon_config(folder)), "run",
                "--duration", "60", *hang]
    stub = folder / "core_stub.py"
    stub.write_text(CORE_STUB, encoding="utf-8")
    return [sys.executable, str(stub), *hang]


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
