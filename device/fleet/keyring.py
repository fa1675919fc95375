"""Bureau operator keys and their roles, as provisioned on the device (operators.json).

File shape: {"operators": [{"kid": "...", "jwk": {OKP Ed25519 public}, "roles": ["operator"],
"not_after": "2027-12-31T00:00:00Z" (optional), "revoked": false}]}. Rotation is adding a new
kid before the old one's not_after; revocation is `revoked: true` (or removal).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from device.errors import CommandRejected, ConfigError

ROLES: Mapping[str, frozenset[str]] = {
    "viewer": frozenset({"status.get", "config.get", "selftest.run", "logs.tail"}),
    "operator": frozenset(
        {"status.get", "config.get", "selftest.run", "logs.tail", "thresholds.set",
         "templates.put", "templates.revoke", "outbox.flush", "service.restart"}
    ),
    "admin": frozenset(
        {"status.get", "config.get", "selftest.run", "logs.tail", "thresholds.set",
         "templates.put", "templates.revoke", "outbox.flush", "service.restart",
         "config.set", "model.update"}
    ),
}


@dataclass(frozen=True, slots=True)
class Operator:
    kid: str
    key: OKPKey
    roles: frozenset[str]
    not_after: dt.datetime | None
    revoked: bool

    def allowed(self, command: str) -> bool:
        return any(command in ROLES.get(role, frozenset()) for role in self.roles)


class Keyring:
    """Looks up operator keys by kid and refuses revoked or expired ones."""

    def __init__(self, operators: Mapping[str, Operator]) -> None:
        self._operators = dict(operators)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read operator keys: {exc}") from exc
        return cls.from_data(data, str(path))

    @classmethod
    def from_data(cls, data: Any, source: str = "operators") -> Keyring:
        operators: dict[str, Operator] = {}
        try:
            for entry in data["operators"]:
                operator = _parse(entry)
                operators[operator.kid] = operator
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid operator entry: {exc}") from exc
        return cls(operators)

    def get(self, kid: str, now: dt.datetime) -> Operator:
        operator = self._operators.get(kid)
        if operator is None:
            raise CommandRejected("unknown_key", f"no operator key {kid!r}")
        if operator.revoked:
            raise CommandRejected("revoked_key", f"operator key {kid!r} is revoked")
        if operator.not_after is not None and now > operator.not_after:
            raise CommandRejected("expired_key", f"operator key {kid!r} expired")
        return operator

    def kids(self) -> list[str]:
        return sorted(self._operators)


def _parse(entry: Mapping[str, Any]) -> Operator:
    jwk = dict(entry["jwk"])
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk:
        raise ValueError(f"{entry.get('kid')}: an Ed25519 public JWK is required")
    roles = frozenset(entry["roles"])
    unknown = roles - set(ROLES)
    if unknown:
        raise ValueError(f"{entry['kid']}: unknown roles {sorted(unknown)}")
    not_after = entry.get("not_after")
    return Operator(
        kid=str(entry["kid"]),
        key=OKPKey.import_key(jwk),
        roles=roles,
        not_after=_utc(dt.datetime.fromisoformat(not_after)) if not_after else None,
        revoked=bool(entry.get("revoked", False)),
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    """A time without a zone is read as UTC (the bureau's tooling writes Z)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def operator_entry(kid: str, public_jwk: Mapping[str, Any], roles: list[str]) -> dict[str, Any]:
    """One entry of operators.json (used by provisioning and tests)."""
    return {"kid": kid, "jwk": dict(public_jwk), "roles": roles, "revoked": False}
