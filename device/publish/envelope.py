"""The signed result envelope: a compact JWS (RFC 7515) over the decision record and its claims.

Signature: Ed25519 (RFC 8032) with an OKP key (RFC 8037), `alg` "Ed25519" (the fully specified
name of RFC 9864; the polymorphic "EdDSA" is deprecated there and both joserfc and jwcrypto warn
on it). Claims: `record` (the decision record), `iss` (device id), `iat` (seconds), `jti`
(UUIDv7), `seq` (per-device counter), `epoch` (the UUID of the device's sequence series: a
new epoch is a logged reset, not a replay) and `pii`: a compact JWE (ECDH-ES over X25519,
A256GCM) of {id_number, name} sealed to the bureau's public key, whose protected header carries
the result's `jti` so a sealed block cannot be moved to another result. Header `kid` = device
id. Inbound claims are parsed as strict JSON (device.strictjson): duplicate keys, NaN,
Infinity, integers beyond 2**53 and lone surrogates are refused before anything is stored.

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

from device import strictjson
from device.errors import PublishError

# The one list of signature algorithms accepted for results and fleet commands (RFC 9864's
# fully specified name; the deprecated polymorphic "EdDSA" is refused everywhere).
SIGNATURE_ALGORITHMS = ("Ed25519",)
SIG_ALG = SIGNATURE_ALGORITHMS[0]
KEY_ALG = "ECDH-ES"
ENC = "A256GCM"
TYPE = "faceterm-result+jws"
FORBIDDEN_RECORD_KEYS = frozenset({"id_number", "name", "image", "embedding", "photo"})
PERSONAL_KEYS = frozenset({"id_number", "name"})
# the JWE protected header names the result it belongs to ("jti", RFC 7519 4.1.7 as a header)
PII_REGISTRY = jwe.JWERegistry(
    header_registry={"jti": HeaderParameter("the result this sealed block belongs to", "str",
                                            required=True)},
    algorithms=[KEY_ALG, ENC],
)


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
    """Encrypt {id_number, name} to the bureau (compact JWE, ECDH-ES + X25519, A256GCM),
    bound to the result `jti` in the protected header (authenticated as AAD by A256GCM)."""
    unknown = set(personal) - PERSONAL_KEYS
    if unknown:
        raise PublishError(f"personal data has unexpected fields: {sorted(unknown)}")
    header = {"alg": KEY_ALG, "enc": ENC, "kid": "bureau", "jti": jti}
    return jwe.encrypt_compact(header, _canonical(dict(personal)), bureau_public,
                               registry=PII_REGISTRY)


def unseal_personal(token: str, bureau_private: OKPKey, jti: str) -> dict[str, str]:
    """The sealed personal data of the result `jti`; Rejected if it belongs to another."""
    try:
        sealed = jwe.decrypt_compact(token, bureau_private, registry=PII_REGISTRY)
        data = strictjson.loads(sealed.plaintext or b"")
    except (JoseError, ValueError) as exc:
        raise Rejected("pii_undecryptable") from exc
    if sealed.protected.get("jti") != jti:
        raise Rejected("pii_unbound", "sealed for another result")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise Rejected("pii_undecryptable", "not an object of strings")
    if set(data) - PERSONAL_KEYS:
        raise Rejected("pii_undecryptable", "unexpected fields")
    return {str(k): v for k, v in data.items()}


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
        payload = jws.deserialize_compact(token, key, algorithms=list(SIGNATURE_ALGORITHMS)).payload
    except JoseError as exc:
        raise Rejected("bad_signature", kid) from exc
    try:
        claims = strictjson.loads(payload)
    except strictjson.StrictJSONError as exc:
        raise Rejected("malformed", str(exc)) from exc
    _check_claims(claims, kid)
    return dict(claims)


def _check_claims(claims: Any, kid: str) -> None:
    if not isinstance(claims, dict):
        raise Rejected("malformed", "claims are not an object")
    if claims.get("iss") != kid:
        raise Rejected("bad_claims", "iss differs from kid")
    seq, jti = claims.get("seq"), claims.get("jti")
    if not strictjson.bounded_int(seq, 1) or not strictjson.bounded_int(claims.get("iat")):
        raise Rejected("bad_claims", "seq/iat outside 0..2**53")
    epoch = claims.get("epoch")
    if epoch is not None and not (isinstance(epoch, str) and 0 < len(epoch) <= 64):
        raise Rejected("bad_claims", "epoch")
    if not isinstance(claims.get("record"), dict):
        raise Rejected("bad_claims", "record")
    try:
        if not isinstance(jti, str) or uuid.UUID(jti).version != 7:
            raise Rejected("bad_claims", "jti")
    except ValueError as exc:
        raise Rejected("bad_claims", "jti") from exc
