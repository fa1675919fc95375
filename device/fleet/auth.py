"""Verify a bureau command: compact JWS (Ed25519 signatures, RFC 8037) by a provisioned operator
key, fresh, addressed to this device, of a known command with valid parameters. Every refusal has
a reason code.

The JOSE `alg` is "Ed25519" (RFC 9864's fully specified name, as the result envelope uses);
Accepted algorithms: device.publish.envelope.SIGNATURE_ALGORITHMS, the one list results use too
("Ed25519"; the polymorphic "EdDSA", deprecated by RFC 9864, is refused).

Header and claims are parsed as strict JSON (device.strictjson: no duplicate keys, no NaN or
Infinity, integers within 2**53), and iat, exp and nbf must be finite numbers in 0..2**53, so
no comparison below can be silently false.
"""

from __future__ import annotations

import base64
import datetime as dt
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from device.errors import CommandRejected
from device.fleet.commands import ModelUpdate, Params, parse_params
from device.fleet.keyring import Keyring
from device.publish.envelope import SIGNATURE_ALGORITHMS
from device.strictjson import bounded_number
from device.strictjson import loads as strict_loads

MAX_LIFETIME_S = 24 * 3600.0
ALGORITHMS = SIGNATURE_ALGORITHMS


@dataclass(frozen=True, slots=True)
class Command:
    jti: str
    name: str
    params: Params
    operator: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Audience:
    """Who this device answers to: its own id and the fleet groups it belongs to."""

    device_id: str
    groups: Collection[str] = ()

    def accepts(self, aud: Any) -> bool:
        wanted = aud if isinstance(aud, list) else [aud]
        mine = {self.device_id, *(f"group:{g}" for g in self.groups)}
        return any(isinstance(a, str) and a in mine for a in wanted)


def verify(
    token: bytes,
    keyring: Keyring,
    audience: Audience,
    now_s: float,
    skew_s: float,
    max_bytes: int,
) -> Command:
    """Check a command token; raise CommandRejected(reason) on the first failed rule."""
    if len(token) > max_bytes:
        raise CommandRejected("oversize", f"{len(token)} bytes > {max_bytes}")
    header = _header(token)
    operator = keyring.get(str(header.get("kid", "")), dt.datetime.fromtimestamp(now_s, dt.UTC))
    claims = _verified_claims(token, operator.key)
    _check_time(claims, now_s, skew_s)
    if not audience.accepts(claims.get("aud")):
        raise CommandRejected("wrong_audience", f"aud {claims.get('aud')!r}")
    name = claims.get("cmd")
    if not isinstance(name, str):
        raise CommandRejected("malformed", "cmd missing")
    params = parse_params(name, claims.get("params"))
    if not operator.allowed(name):
        raise CommandRejected("forbidden", f"{operator.kid} may not run {name}")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
        raise CommandRejected("malformed", "jti missing or of a bad length")
    return Command(jti, name, params, operator.kid, float(claims["iat"]), float(claims["exp"]))


def _header(token: bytes) -> dict[str, Any]:
    try:
        jws.extract_compact(token)
        header = strict_loads(_b64url(token.split(b".", 1)[0]))
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise CommandRejected("malformed", "not a compact JWS") from exc
    if not isinstance(header, dict):
        raise CommandRejected("malformed", "JWS header is not a JSON object")
    if header.get("alg") not in ALGORITHMS:
        raise CommandRejected("bad_algorithm", f"alg {header.get('alg')!r}")
    return header


def _b64url(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def _verified_claims(token: bytes, key: Any) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # joserfc warns on the deprecated name "EdDSA"
            payload = jws.deserialize_compact(token, key, algorithms=list(ALGORITHMS)).payload
    except (JoseError, ValueError) as exc:
        raise CommandRejected("bad_signature", type(exc).__name__) from exc
    try:
        claims = strict_loads(payload)
    except ValueError as exc:
        raise CommandRejected("malformed", f"payload is not strict JSON: {exc}") from exc
    if not isinstance(claims, dict):
        raise CommandRejected("malformed", "payload is not a JSON object")
    return claims


def _check_time(claims: dict[str, Any], now_s: float, skew_s: float) -> None:
    times: list[Any] = [claims.get("iat"), claims.get("exp"), claims.get("nbf", claims.get("iat"))]
    if not all(bounded_number(t) for t in times):
        raise CommandRejected("malformed", "iat, exp and nbf must be numbers in 0..2**53")
    iat, exp, nbf = (float(t) for t in times)
    if exp < now_s - skew_s:
        raise CommandRejected("expired", f"expired {now_s - exp:.0f} s ago")
    if nbf > now_s + skew_s or iat > now_s + skew_s:
        raise CommandRejected("not_yet_valid", "issued in the future beyond the clock skew")
    if not 0 <= exp - iat <= MAX_LIFETIME_S:
        raise CommandRejected("malformed", "lifetime negative or longer than 24 h")


def verify_artifact(signature: str, keyring: Keyring, artifact: ModelUpdate, now_s: float) -> str:
    """A model artifact must carry a JWS by an admin key over exactly its name, sha256, size,
    variant and threshold; return the signing key id."""
    header = _header(signature.encode())
    operator = keyring.get(str(header.get("kid", "")), dt.datetime.fromtimestamp(now_s, dt.UTC))
    if not operator.allowed("model.update"):
        raise CommandRejected("forbidden", f"{operator.kid} may not sign models")
    claims = _verified_claims(signature.encode(), operator.key)
    fields = ("name", "sha256", "size", "variant", "threshold")
    if any(claims.get(f, ...) != getattr(artifact, f) for f in fields):
        raise CommandRejected("artifact_invalid", "signature does not cover this artifact")
    return operator.kid
