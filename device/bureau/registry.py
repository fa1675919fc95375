"""The bureau's device registry, reloaded when its file changes, with a revocation list.

Registry file: {device id: {"tenant": "t1", "key": {public Ed25519 JWK}, "revoked": false}}
(an entry that is a bare JWK, the older shape, has no tenant and is refused as `no_tenant`).
Revocation file (optional): a JSON list of device ids. Both are re-read when their mtime or
size changes; a file that cannot be read keeps the last good registry and logs why.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    key: OKPKey
    tenant: str | None
    revoked: bool


def parse_entry(device_id: str, entry: Any) -> Device:
    """One registry entry (new or bare-JWK shape); ValueError if unusable."""
    if not isinstance(entry, dict):
        raise ValueError(f"device {device_id!r}: entry is not an object")
    jwk = entry.get("key", entry) if "kty" not in entry else entry
    if not isinstance(jwk, dict) or jwk.get("crv") != "Ed25519" or "d" in jwk:
        raise ValueError(f"device {device_id!r} needs a public Ed25519 JWK")
    tenant = entry.get("tenant") if "kty" not in entry else None
    if tenant is not None and not isinstance(tenant, str):
        raise ValueError(f"device {device_id!r}: tenant must be a string")
    key = OKPKey.import_key({k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "kid")})
    return Device(device_id, key, tenant, entry.get("revoked") is True)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


class DeviceRegistry:
    """lookup(device_id) -> Device | None, always from the current files."""

    def __init__(self, path: Path, revoked_path: Path | None = None) -> None:
        self.path, self.revoked_path = path, revoked_path
        self._devices: dict[str, Device] = {}
        self._revoked: frozenset[str] = frozenset()
        self._stamps: tuple[tuple[int, int] | None, tuple[int, int] | None] | None = None
        self._lock = threading.Lock()
        self.reloads = 0

    def lookup(self, device_id: str) -> Device | None:
        with self._lock:
            self._refresh()
            device = self._devices.get(device_id)
            revoked = device_id in self._revoked
        if device is not None and revoked:
            return Device(device.device_id, device.key, device.tenant, True)
        return device

    def _refresh(self) -> None:
        stamps = (_stamp(self.path), _stamp(self.revoked_path))
        if stamps == self._stamps:
            return
        try:
            devices = self._read_devices()
            revoked = self._read_revoked()
        except (OSError, ValueError) as exc:
            log.error("device registry %s not reloaded (keeping the last good one): %s",
                      self.path, exc)
            return
        self._devices, self._revoked, self._stamps = devices, revoked, stamps
        self.reloads += 1
        log.info("device registry loaded: %d devices, %d revoked", len(devices), len(revoked))

    def _read_devices(self) -> dict[str, Device]:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the registry must be a JSON object")
        return {str(k): parse_entry(str(k), v) for k, v in data.items()}

    def _read_revoked(self) -> frozenset[str]:
        if self.revoked_path is None or not self.revoked_path.exists():
            return frozenset()
        data = json.loads(self.revoked_path.read_text(encoding="utf-8"))
        if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
            raise ValueError("the revocation list must be a JSON list of device ids")
        return frozenset(data)
