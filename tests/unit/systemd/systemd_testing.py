"""Helpers for the systemd tests: a datagram socket standing in for systemd's notify socket."""

from __future__ import annotations

import socket


class NotifySocket:
    """Bound AF_UNIX datagram socket; `address` is what goes into NOTIFY_SOCKET."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address

    def receive(self, timeout_s: float = 2.0) -> bytes:
        self.sock.settimeout(timeout_s)
        return self.sock.recv(4096)

    def drain(self) -> list[bytes]:
        self.sock.settimeout(0.05)
        got = []
        try:
            while True:
                got.append(self.sock.recv(4096))
        except TimeoutError:
            return got
