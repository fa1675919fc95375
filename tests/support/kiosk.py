"""A provisioned kiosk configuration for tests that start the real daemon."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from device.demo.site import Site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kiosk_config(
    folder: Path, device_id: str, sections: dict[str, dict[str, Any]] | None = None,
    port: int | None = None,
) -> Path:
    """faceterm.toml for a kiosk provisioned under folder (no broker needed: without one the
    publisher keeps results in its outbox and retries)."""
    site = Site.create(folder / "site")
    return site.provision_kiosk(device_id, port or free_port(), sections)
