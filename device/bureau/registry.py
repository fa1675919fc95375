"""The bureau's device registry, read again whenever its file changes, with a revocation list.

Registry file (JSON object), per device either a public Ed25519 JWK (older files) or
`{"jwk": {...}, "tenant": "..."}`; the tenant a result is stored under comes from here, never
from the topic. Revocation file (optional, JSON): `{"revoked": ["device-id", ...]}`. Both are
checked for a new modification time (or size) at most every `check_interval_s`, so a device
removed or revoked at the bureau is refused without restarting the receiver; a file that does
not parse keeps the last good registry and says so in the log.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from device.errors import PublishError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    key: OKPKey
    tenant: str | None


def parse_registry(data: Any, origin: str) -> dict[str, DeviceEntry]:
    if not isinstance(data, dict):
        raise PublishError(f"{origin}: device registry must be a JSON object")
    entries = {}
    for device_id, value in data.items():
        jwk, tenant = (value.get("jwk"), value.get("tenant")) if "jwk" in value else (value, None)
        if tenant is not None and not (isinstance(tenant, str) and tenant):
            raise PublishError(f"{origin}: device {device_id!r} has a bad tenant")
        try:
            key = OKPKey.import_key(jwk)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PublishError(f"{origin}: bad key for device {device_id!r}") from exc
        if key.is_private or jwk.get("crv") != "Ed25519":
            raise PublishError(f"{origin}: device {device_id!r} needs a public Ed25519 JWK")
        entries[device_id] = DeviceEntry(key, tenant)
    return entries


def parse_revoked(data: Any, origin: str) -> frozenset[str]:
    revoked = data.get("revoked") if isinstance(data, dict) else None
    if not isinstance(revoked, list) or not all(isinstance(d, str) for d in revoked):
        raise PublishError(f"{origin}: expected {{\"revoked\": [device ids]}}")
    return frozenset(revoked)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


class DeviceRegistry:
    """Thread-safe lookups of (key, tenant) for devices that are registered and not revoked."""

    def __init__(self, path: Path | None = None, revoked_path: Path | None = None, *,
                 static: Mapping[str, OKPKey] | None = None,
                 check_interval_s: float = 1.0) -> None:
        self.path, self.revoked_path = path, revoked_path
        self._entries = {d: DeviceEntry(k, None) for d, k in (static or {}).items()}
        self._revoked: frozenset[str] = frozenset()
        self._stamps: tuple[tuple[int, int] | None, ...] = (None, None)
        self._interval, self._checked = check_interval_s, -float("inf")
        self._lock = threading.Lock()
        self.reloads = 0
        if path is not None:
            self._reload(force=True)

    def lookup(self, device_id: str) -> DeviceEntry | None:
        self._reload()
        with self._lock:
            known = device_id in self._entries
        if not known:  # a device registered a moment ago: look at the file again now
            self._reload(recheck=True)
        with self._lock:
            if device_id in self._revoked:
                return None
            return self._entries.get(device_id)

    def is_revoked(self, device_id: str) -> bool:
        self._reload()
        with self._lock:
            return device_id in self._revoked

    def key_for(self, device_id: str) -> OKPKey | None:
        entry = self.lookup(device_id)
        return entry.key if entry is not None else None

    def _reload(self, force: bool = False, recheck: bool = False) -> None:
        now = time.monotonic()
        if self.path is None:
            return
        if not (force or recheck) and now - self._checked < self._interval:
            return
        self._checked = now
        stamps = (_stamp(self.path), _stamp(self.revoked_path))
        if stamps == self._stamps and not force:
            return
        try:
            entries = parse_registry(_read(self.path), str(self.path))
            revoked = (parse_revoked(_read(self.revoked_path), str(self.revoked_path))
                       if self.revoked_path is not None and stamps[1] != (0, -1)
                       else frozenset())
        except PublishError as exc:
            if force:
                raise
            log.error("device registry: %s; keeping the previous one", exc)
            return
        with self._lock:
            self._entries, self._revoked, self._stamps = entries, revoked, stamps
        self.reloads += 1
        log.info("device registry: %d devices, %d revoked", len(entries), len(revoked))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path}: cannot read: {exc}") from exc
