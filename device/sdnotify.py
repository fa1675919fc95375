"""The systemd notification protocol (sd_notify): READY, STATUS, WATCHDOG and STOPPING.

systemd-python's `systemd.daemon.notify` is used when it is importable; otherwise a small
AF_UNIX datagram client sends the same bytes to $NOTIFY_SOCKET (a filesystem path, or an
abstract socket written with a leading '@'). Without NOTIFY_SOCKET every call is a no-op,
so the daemon runs unchanged in a terminal, in tests and under systemd.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any, Literal

from device.redact import redact_text

log = logging.getLogger(__name__)

Backend = Literal["auto", "systemd", "socket"]
Sender = Callable[[str], bool]

STATUS_MAX_CHARS = 200
SEND_TIMEOUT_S = 1.0


def socket_address(value: str) -> str | None:
    """The address to send to: '@name' becomes the abstract '\\0name'; None if unusable."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


def send_datagram(address: str, state: str, timeout_s: float = SEND_TIMEOUT_S) -> bool:
    """Send one notification datagram; True if the socket took it (never raises OSError)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(timeout_s)
            sock.sendto(state.encode("utf-8"), address)
    except OSError as exc:
        log.debug("sd_notify: sending to the notification socket failed: %s", exc)
        return False
    return True


def clean_status(text: str) -> str:
    """A one-line STATUS value: no newlines (no injected assignments), no ID numbers, bounded."""
    flat = " ".join(redact_text(text).split())
    return flat[:STATUS_MAX_CHARS]


class Notifier:
    """Tells the service manager about start-up, state, liveness and shutdown.

    `environ` defaults to os.environ and is read on each call, never in the constructor.
    The systemd-python backend reads os.environ itself, so "auto" only chooses it when
    environ is os.environ; an explicit environ always uses the datagram client.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, backend: Backend = "auto") -> None:
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._backend = backend
        self._sender: Sender | None = None
        self.sent = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        """Whether a service manager is listening (NOTIFY_SOCKET names a usable socket)."""
        return socket_address(self._environ.get("NOTIFY_SOCKET", "")) is not None

    def ready(self) -> None:
        self.notify("READY=1")

    def status(self, text: str) -> None:
        self.notify("STATUS=" + clean_status(text))

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def extend_timeout(self, seconds: float) -> None:
        """Ask for more start-up (or stop) time, e.g. while large models load."""
        self.notify(f"EXTEND_TIMEOUT_USEC={max(0, int(seconds * 1_000_000))}")

    def watchdog_interval_s(self) -> float | None:
        """The watchdog timeout systemd set for this process (WatchdogSec=), or None if none."""
        try:
            usec = int(self._environ.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        if usec <= 0:
            return None
        pid = self._environ.get("WATCHDOG_PID")
        if pid is not None and pid.strip() != str(os.getpid()):
            return None
        return usec / 1_000_000

    def notify(self, state: str) -> bool:
        """Send one raw state assignment; False when nobody listens or sending failed."""
        if not self.enabled:
            return False
        ok = self._get_sender()(state)
        if ok:
            self.sent += 1
        else:
            self.failed += 1
        return ok

    def status_counters(self) -> dict[str, int | bool]:
        return {"enabled": self.enabled, "sent": self.sent, "failed": self.failed}

    def _get_sender(self) -> Sender:
        if self._sender is None:
            self._sender = self._choose_sender()
        return self._sender

    def _choose_sender(self) -> Sender:
        own_environ = self._environ is os.environ
        if self._backend == "systemd" or (self._backend == "auto" and own_environ):
            sender = systemd_sender()
            if sender is not None:
                return sender
            if self._backend == "systemd":
                raise RuntimeError("systemd-python (systemd.daemon) is not importable")
        return self._send_to_socket

    def _send_to_socket(self, state: str) -> bool:
        address = socket_address(self._environ.get("NOTIFY_SOCKET", ""))
        return address is not None and send_datagram(address, state)


def systemd_sender() -> Sender | None:
    """systemd-python's notify, if the package is installed."""
    try:
        daemon: Any = importlib.import_module("systemd.daemon")
    except ImportError:
        return None

    def send(state: str) -> bool:
        return bool(daemon.notify(state))

    return send
