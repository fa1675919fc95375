"""The signed result envelope: a compact JWS (RFC 7515) over the decision record and its claims.

Signature: Ed25519 (RFC 8032) with an OKP key (RFC 8037), `alg` "Ed25519" (the fully specified
name of RFC 9864; the polymorphic "EdDSA" is deprecated there and both joserfc and jwcrypto warn
on it). Claims: `record` (the decision record), `iss` (device id), `iat` (seconds), `jti`
(UUIDv7), `seq` (per-device counter), `epoch` (the UUID of the device's sequence series:
a new epoch is a logged reset, not a replay) and `pii`: a compact JWE (ECDH-ES over X25519, A256GCM)
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

from device.errors import PublishError

SIG_ALG = "Ed25519"
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


def seal_personal(personal: Mapping[str, str], bureau_public: OKPKey) -> str:
    """Encrypt {id_number, name} to the bureau (compact JWE, ECDH-ES + X25519, A256GCM)."""
    unknown = set(personal) - PERSONAL_KEYS
    if unknown:
        raise PublishError(f"personal data has unexpected fields: {sorted(unknown)}")
    header = {"alg": KEY_ALG, "enc": ENC, "kid": "bureau"}
    return jwe.encrypt_compact(header, _canonical(dict(personal)), bureau_public,
                               algorithms=[KEY_ALG, ENC])


def unseal_personal(token: str, bureau_private: OKPKey) -> dict[str, str]:
    try:
        plain = jwe.decrypt_compact(token, bureau_private, algorithms=[KEY_ALG, ENC]).plaintext
        data = json.loads(plain or b"")
    except (JoseError, ValueError) as exc:
        raise Rejected("pii_undecryptable") from exc
    if not isinstance(data, dict):
        raise Rejected("pii_undecryptable", "not an object")
    return {str(k): str(v) for k, v in data.items()}


def check_record(record: Mapping[str, Any]) -> None:
    leaked = FORBIDDEN_RECORD_KEYS & set(record)
    if leaked:
        raise PublishError(f"decision record must not carry {sorted(leaked)}")


def sign(claims: Mapping[str, Any], key: OKPKey, kid: str) -> str:
    header = {"alg": SIG_ALG, "kid": kid, "typ": TYPE}
    return jws.serialize_compact(header, _canonical(dict(claims)), key, algorithms=[SIG_ALG])


class Signer:
    """Builds signed envelopes for one device; the caller supplies the seq."""

    def __init__(
        self, device_id: str, key: OKPKey, bureau_public: OKPKey, epoch: str | None = None
    ) -> None:
        self.device_id = device_id
        self.epoch = epoch  # the device's sequence epoch (UUID), claimed beside seq
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
        if self.epoch:
            claims["epoch"] = self.epoch
        if personal:
            claims["pii"] = seal_personal(personal, self._bureau)
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
        payload = jws.deserialize_compact(token, key, algorithms=[SIG_ALG]).payload
    except JoseError as exc:
        raise Rejected("bad_signature", kid) from exc
    try:
        claims = json.loads(payload)
    except ValueError as exc:
        raise Rejected("malformed", "payload is not JSON") from exc
    _check_claims(claims, kid)
    return dict(claims)


def _check_claims(claims: Any, kid: str) -> None:
    if not isinstance(claims, dict):
        raise Rejected("malformed", "claims are not an object")
    if claims.get("iss") != kid:
        raise Rejected("bad_claims", "iss differs from kid")
    seq, jti = claims.get("seq"), claims.get("jti")
    if not isinstance(seq, int) or seq < 1 or not isinstance(claims.get("iat"), int):
        raise Rejected("bad_claims", "seq/iat")
    if not isinstance(claims.get("record"), dict):
        raise Rejected("bad_claims", "record")
    try:
        if not isinstance(jti, str) or uuid.UUID(jti).version != 7:
            raise Rejected("bad_claims", "jti")
    except ValueError as exc:
        raise Rejected("bad_claims", "jti") from exc
