"""The signed envelope: UUIDv7, JWS Ed25519 and JWE ECDH-ES/X25519, cross-checked with jwcrypto."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import OKPKey
from jwcrypto import jwe as jjwe
from jwcrypto import jwk as jjwk
from jwcrypto import jws as jjws

from device.errors import PublishError
from device.publish import envelope as env

RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": [],
          "scores": {"match": 0.71}, "device_id": "dev-1", "subject": "ab12"}
PERSONAL = {"id_number": "11010519491231002X", "name": "张三"}


@pytest.fixture(scope="module")
def keys() -> tuple[OKPKey, OKPKey]:
    return OKPKey.generate_key("Ed25519"), OKPKey.generate_key("X25519")


def _public(key: OKPKey) -> OKPKey:
    return OKPKey.import_key(key.as_dict(private=False))


def test_uuid7_layout() -> None:
    value = env.uuid7(now_ms=0x0123_4567_89AB, random_bytes=b"\xff" * 10)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert env.uuid7_time_ms(value) == 0x0123_4567_89AB
    assert str(value).startswith("01234567-89ab-7fff-bfff")


@given(st.integers(0, 2**48 - 1), st.binary(min_size=10, max_size=10))
def test_uuid7_property(ms: int, rand: bytes) -> None:
    value = env.uuid7(ms, rand)
    assert (value.version, value.variant) == (7, uuid.RFC_4122)
    assert env.uuid7_time_ms(value) == ms


def test_uuid7_sorts_by_time() -> None:
    earlier, later = env.uuid7(1000), env.uuid7(1001)
    assert str(earlier) < str(later)
    assert abs(env.uuid7_time_ms(env.uuid7()) - time.time() * 1000) < 5000


def test_round_trip_with_joserfc(keys: tuple[OKPKey, OKPKey]) -> None:
    signing, bureau = keys
    made = env.Signer("dev-1", signing, _public(bureau)).make(RECORD, PERSONAL, seq=7)
    claims = env.verify(made.token, {"dev-1": _public(signing)}.get)
    assert claims["record"] == RECORD
    assert (claims["iss"], claims["seq"], claims["jti"]) == ("dev-1", 7, made.jti)
    assert env.unseal_personal(claims["pii"], bureau, claims["jti"]) == PERSONAL
    assert "11010519491231002X" not in made.token and "张三" not in made.token


def test_jwcrypto_verifies_signature_and_decrypts_personal_data(
    keys: tuple[OKPKey, OKPKey],
) -> None:
    signing, bureau = keys
    made = env.Signer("dev-1", signing, _public(bureau)).make(RECORD, PERSONAL, seq=1)
    token = jjws.JWS()
    token.deserialize(made.token)
    token.verify(jjwk.JWK(**signing.as_dict(private=False)), alg="Ed25519")
    assert token.jose_header["kid"] == "dev-1"
    claims = json.loads(token.payload)
    sealed = jjwe.JWE()
    sealed.deserialize(claims["pii"], key=jjwk.JWK(**bureau.as_dict(private=True)))
    assert sealed.jose_header["alg"] == "ECDH-ES" and sealed.jose_header["enc"] == "A256GCM"
    assert json.loads(sealed.payload) == PERSONAL


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tampered_envelope_is_rejected(keys: tuple[OKPKey, OKPKey]) -> None:
    signing, bureau = keys
    token = env.Signer("dev-1", signing, _public(bureau)).make(RECORD, None, seq=1).token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["record"]["decision"] = "fail"
    edited = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    flipped = f"{header}.{payload}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}" \
        f"{signature[11:]}"
    for bad in (edited, flipped):
        with pytest.raises(env.Rejected) as caught:
            env.verify(bad, {"dev-1": _public(signing)}.get)
        assert caught.value.reason == "bad_signature"


def test_unknown_device_and_bad_claims(keys: tuple[OKPKey, OKPKey]) -> None:
    signing, bureau = keys
    token = env.Signer("dev-9", signing, _public(bureau)).make(RECORD, None, seq=1).token
    with pytest.raises(env.Rejected, match="unknown_device"):
        env.verify(token, {"dev-1": _public(signing)}.get)
    spoof = env.sign({"iss": "dev-2", "iat": 1, "jti": str(env.uuid7()), "seq": 1,
                      "record": {}}, signing, "dev-1")
    with pytest.raises(env.Rejected, match="bad_claims"):
        env.verify(spoof, {"dev-1": _public(signing)}.get)
    with pytest.raises(env.Rejected, match="malformed"):
        env.verify("not.a-token", {"dev-1": _public(signing)}.get)


def test_record_must_not_carry_personal_data(keys: tuple[OKPKey, OKPKey]) -> None:
    signing, bureau = keys
    signer = env.Signer("dev-1", signing, _public(bureau))
    with pytest.raises(PublishError, match="id_number"):
        signer.make({**RECORD, "id_number": "11010519491231002X"}, None, seq=1)
    with pytest.raises(PublishError, match="unexpected"):
        signer.make(RECORD, {"photo": "..."}, seq=1)


def test_wrong_bureau_key_cannot_unseal(keys: tuple[OKPKey, OKPKey]) -> None:
    signing, bureau = keys
    made = env.Signer("dev-1", signing, _public(bureau)).make(RECORD, PERSONAL, seq=1)
    claims = env.verify(made.token, {"dev-1": _public(signing)}.get)
    with pytest.raises(env.Rejected, match="pii_undecryptable"):
        env.unseal_personal(claims["pii"], OKPKey.generate_key("X25519"), claims["jti"])
