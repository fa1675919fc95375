"""The signed result envelope: a compact JWS (RFC 7515) over the decision record and its claims.

Signature: Ed25519 (RFC 8032) with an OKP key (RFC 8037), `alg` "Ed25519" (the fully specified
name of RFC 9864; the polymorphic "EdDSA" is deprecated there and both joserfc and jwcrypto warn
on it). Claims: `record` (the decision record), `iss` (device id), `iat` (seconds), `jti`
(UUIDv7), `seq` (per-device counter) and `pii`: a compact JWE (ECDH-ES over X25519, A256GCM)
of {id_number, name} sealed to the bureau's public key. Header `kid` = device id.

Pure functions: no I/O, no clocks except where a caller passes none.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from device.errors import PublishError

SIG_ALG = "Ed25519"
# The one list of signature algorithms accepted for results and for fleet commands.
ACCEPTED_ALGS: tuple[str, ...] = (SIG_ALG,)
MAX_INT = 2**53  # I-JSON (RFC 7493): integers every JSON implementation holds exactly
KEY_ALG = "ECDH-ES"
ENC = "A256GCM"
TYPE = "faceterm-result+jws"
FORBIDDEN_RECORD_KEYS = frozenset({"id_number", "name", "image", "embedding", "photo"})
PERSONAL_KEYS = frozenset({"id_number", "name"})


def uuid7(now_ms: int | None = None, random_bytes: bytes | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, variant 10, 74 random bits."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(random_bytes if random_bytes is not None else os.urandom(10), "big")
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b: 62 bits
    return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    return value.int >> 80


@dataclass(frozen=True, slots=True)
class Envelope:
    jti: str
    seq: int
    token: str


class Rejected(Exception):
    """An inbound envelope failed a check; `reason` is a stable counter name."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_personal(personal: Mapping[str, str], bureau_public: OKPKey, jti: str) -> str:
    """Encrypt {id_number, name} to the bureau (compact JWE, ECDH-ES + X25519, A256GCM).

    The protected header carries the result's `jti`, so the sealed data cannot be moved to
    another result (the bureau compares it with the signed claims).
    """
    unknown = set(personal) - PERSONAL_KEYS
    if unknown:
        raise PublishError(f"personal data has unexpected fields: {sorted(unknown)}")
    header = {"alg": KEY_ALG, "enc": ENC, "kid": "bureau", "jti": jti}
    return jwe.encrypt_compact(header, _canonical(dict(personal)), bureau_public,
                               registry=_jwe_registry())


def _jwe_registry() -> jwe.JWERegistry:
    """ECDH-ES + A256GCM only, and the `jti` header parameter that binds pii to its result."""
    jti = HeaderParameter("the result this is sealed for", "str")
    return jwe.JWERegistry(header_registry={"jti": jti}, algorithms=[KEY_ALG, ENC])


def unseal_personal(token: str, bureau_private: OKPKey, jti: str) -> dict[str, str]:
    """Decrypt personal data sealed for the result `jti`; Rejected if bound to another."""
    try:
        sealed = jwe.decrypt_compact(token, bureau_private, registry=_jwe_registry())
        data = strict_json(sealed.plaintext or b"")
    except (JoseError, ValueError) as exc:
        raise Rejected("pii_undecryptable") from exc
    if sealed.protected.get("jti") != jti:
        raise Rejected("pii_unbound", "sealed for another result")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise Rejected("pii_undecryptable", "not an object of strings")
    check_storable(data)
    return {str(k): str(v) for k, v in data.items()}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")) or value != value:
        raise ValueError("non-finite number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise ValueError("duplicate key")
    return data


def strict_json(text: bytes | str) -> Any:
    """JSON with duplicate keys, NaN, Infinity and overflowing floats refused (ValueError)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant,
                          parse_float=_finite_float)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def check_storable(value: Any, depth: int = 0) -> None:
    """Refuse what no store keeps: integers beyond +-2**53, lone surrogates, NUL characters."""
    if depth > 32:
        raise Rejected("bad_claims", "nested too deeply")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise Rejected("bad_claims", "integer out of range")
    elif isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_storable(item, depth + 1)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise Rejected("bad_claims", "NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Rejected("bad_claims", "lone surrogate") from exc


def check_record(record: Mapping[str, Any]) -> None:
    leaked = FORBIDDEN_RECORD_KEYS & set(record)
    if leaked:
        raise PublishError(f"decision record must not carry {sorted(leaked)}")


def sign(claims: Mapping[str, Any], key: OKPKey, kid: str) -> str:
    header = {"alg": SIG_ALG, "kid": kid, "typ": TYPE}
    return jws.serialize_compact(header, _canonical(dict(claims)), key, algorithms=[SIG_ALG])


class Signer:
    """Builds signed envelopes for one device; the caller supplies the seq."""

    def __init__(self, device_id: str, key: OKPKey, bureau_public: OKPKey) -> None:
        self.device_id = device_id
        self._key = key
        self._bureau = bureau_public

    def make(
        self,
        record: Mapping[str, Any],
        personal: Mapping[str, str] | None,
        seq: int,
        now_s: float | None = None,
    ) -> Envelope:
        check_record(record)
        now = time.time() if now_s is None else now_s
        jti = str(uuid7(int(now * 1000)))
        claims: dict[str, Any] = {
            "iss": self.device_id, "iat": int(now), "jti": jti, "seq": seq,
            "record": dict(record),
        }
        if personal:
            claims["pii"] = seal_personal(personal, self._bureau, jti)
        return Envelope(jti, seq, sign(claims, self._key, self.device_id))


def read_kid(token: str) -> str:
    """The unverified `kid` header: only to pick the key to verify with."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as exc:
        raise Rejected("malformed") from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Rejected("malformed", "no kid")
    return kid


def verify(token: str, key_for: Callable[[str], OKPKey | None]) -> dict[str, Any]:
    """Check signature and claims; return the claims or raise Rejected(reason)."""
    kid = read_kid(token)
    key = key_for(kid)
    if key is None:
        raise Rejected("unknown_device", kid)
    try:
        payload = jws.deserialize_compact(token, key, algorithms=list(ACCEPTED_ALGS)).payload
    except JoseError as exc:
        raise Rejected("bad_signature", kid) from exc
    except ValueError as exc:
        raise Rejected("malformed", "not a compact JWS") from exc
    try:
        claims = strict_json(payload)
    except ValueError as exc:
        raise Rejected("malformed", f"payload: {exc}") from exc
    _check_claims(claims, kid)
    return dict(claims)


def _check_claims(claims: Any, kid: str) -> None:
    if not isinstance(claims, dict):
        raise Rejected("malformed", "claims are not an object")
    if claims.get("iss") != kid:
        raise Rejected("bad_claims", "iss differs from kid")
    jti = claims.get("jti")
    _check_int(claims.get("seq"), "seq", 1)
    _check_int(claims.get("iat"), "iat", 0)
    if "exp" in claims:
        _check_int(claims["exp"], "exp", 0)
    if not isinstance(claims.get("record"), dict):
        raise Rejected("bad_claims", "record")
    epoch = claims.get("epoch")
    if epoch is not None and not _is_uuid(epoch):
        raise Rejected("bad_claims", "epoch")
    check_storable(claims)
    try:
        if not isinstance(jti, str) or uuid.UUID(jti).version != 7:
            raise Rejected("bad_claims", "jti")
    except ValueError as exc:
        raise Rejected("bad_claims", "jti") from exc


def _check_int(value: Any, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_INT:
        raise Rejected("bad_claims", f"{name} not an integer in {low}..2**53")


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
