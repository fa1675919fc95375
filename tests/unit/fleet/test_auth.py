"""The attack table for fleet commands, on the pure verifier (the MQTT path is tested too)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from device.errors import CommandRejected
from device.fleet.auth import Audience, verify
from device.fleet.keyring import Keyring, operator_entry
from device.fleet.replay import JobStore
from device.fleet.sign import sign_command

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def keys() -> dict[str, OKPKey]:
    names = ("admin", "viewer", "revoked", "rogue")
    return {name: OKPKey.generate_key("Ed25519") for name in names}


@pytest.fixture(scope="module")
def keyring(keys: dict[str, OKPKey]) -> Keyring:
    entries = [
        operator_entry("admin", keys["admin"].as_dict(private=False), ["admin"]),
        operator_entry("viewer", keys["viewer"].as_dict(private=False), ["viewer"]),
        {**operator_entry("revoked", keys["revoked"].as_dict(private=False), ["admin"]),
         "revoked": True},
    ]
    return Keyring.from_data({"operators": entries})


AUD = Audience("kiosk-1", groups=("district-7",))


def check(token: str | bytes, keyring: Keyring) -> str:
    raw = token.encode() if isinstance(token, str) else token
    return verify(raw, keyring, AUD, NOW, skew_s=60, max_bytes=4096).name


def unsigned(keys: dict[str, OKPKey]) -> bytes:
    good = sign_command(keys["admin"], "admin", "kiosk-1", "status.get", now_s=NOW)
    header, payload, _ = good.split(".")
    return f"{header}.{payload}.".encode()


def alg_none(keys: dict[str, OKPKey]) -> bytes:
    import base64

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"aud": "kiosk-1", "iat": NOW, "exp": NOW + 60, "jti": "x" * 16, "cmd": "status.get"}
    header = b64(json.dumps({"alg": "none"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}.".encode()


def bad_json(keys: dict[str, OKPKey]) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jws.serialize_compact(
            {"alg": "Ed25519", "kid": "admin"}, b"{not json", keys["admin"], ["Ed25519"]
        ).encode()


def deprecated_eddsa(keys: dict[str, OKPKey]) -> bytes:
    """A well-formed command signed by a real operator key, under the deprecated alg name."""
    claims = {"aud": "kiosk-1", "iat": NOW, "exp": NOW + 60, "jti": "e" * 16, "cmd": "status.get"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jws.serialize_compact({"alg": "EdDSA", "kid": "admin"},
                                     json.dumps(claims).encode(), keys["admin"], ["EdDSA"]).encode()


ATTACKS: list[tuple[str, Callable[[dict[str, OKPKey]], str | bytes], str]] = [
    ("the deprecated EdDSA name, refused as for results", deprecated_eddsa, "bad_algorithm"),
    ("unsigned", unsigned, "bad_signature"),
    ("alg none", alg_none, "bad_algorithm"),
    ("wrong key", lambda k: sign_command(k["rogue"], "admin", "kiosk-1", "status.get", now_s=NOW),
     "bad_signature"),
    ("unknown kid", lambda k: sign_command(k["rogue"], "rogue", "kiosk-1", "status.get", now_s=NOW),
     "unknown_key"),
    ("revoked key", lambda k: sign_command(k["revoked"], "revoked", "kiosk-1", "status.get",
                                           now_s=NOW), "revoked_key"),
    ("expired", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "status.get", ttl_s=60,
                                       now_s=NOW - 600), "expired"),
    ("not yet valid", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "status.get",
                                             now_s=NOW + 600), "not_yet_valid"),
    ("wrong audience", lambda k: sign_command(k["admin"], "admin", "kiosk-2", "status.get",
                                              now_s=NOW), "wrong_audience"),
    ("other group", lambda k: sign_command(k["admin"], "admin", "group:district-8", "status.get",
                                           now_s=NOW), "wrong_audience"),
    ("malformed token", lambda k: b"hello.world", "malformed"),
    ("malformed JSON", bad_json, "malformed"),
    ("oversize", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "logs.tail",
                                        {"pad": "x" * 5000}, now_s=NOW), "oversize"),
    ("unknown command", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "rm.rf", now_s=NOW),
     "unknown_command"),
    ("invalid params", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "thresholds.set",
                                              {"match_threshold": 7}, now_s=NOW), "invalid_params"),
    ("extra params", lambda k: sign_command(k["admin"], "admin", "kiosk-1", "logs.tail",
                                            {"lines": 5, "shell": "id"}, now_s=NOW),
     "invalid_params"),
    ("role too low", lambda k: sign_command(k["viewer"], "viewer", "kiosk-1", "config.set",
                                            {"changes": {"session": {"max_attempts": 2}}},
                                            now_s=NOW), "forbidden"),
]


@pytest.mark.parametrize(("name", "make", "reason"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_rejected_with_its_reason(
    name: str, make: Callable[[dict[str, OKPKey]], str | bytes], reason: str,
    keys: dict[str, OKPKey], keyring: Keyring,
) -> None:
    with pytest.raises(CommandRejected) as info:
        check(make(keys), keyring)
    assert info.value.reason == reason


def test_good_commands_pass_for_device_and_group(keys: dict[str, OKPKey], keyring: Keyring) -> None:
    assert check(sign_command(keys["admin"], "admin", "kiosk-1", "status.get", now_s=NOW),
                 keyring) == "status.get"
    token = sign_command(keys["viewer"], "viewer", "group:district-7", "logs.tail", {"lines": 5},
                         now_s=NOW - 30)
    assert check(token, keyring) == "logs.tail"


def test_replayed_jti_is_recognised_after_a_restart(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.open()
    assert store.claim("jti-0001", "status.get", NOW, NOW + 60, NOW) is None
    store.update("jti-0001", "SUCCEEDED", NOW, result={"ok": True})
    store.close()
    reopened = JobStore(tmp_path / "jobs.sqlite3")
    reopened.open()
    previous = reopened.claim("jti-0001", "status.get", NOW, NOW + 60, NOW)
    assert previous is not None and previous["status"] == "SUCCEEDED"
    assert reopened.purge(NOW + 10_000) == 0  # kept a full command lifetime after expiry
    assert reopened.purge(NOW + 60 + 24 * 3600 + 1) == 1
    reopened.close()


def test_keyring_refuses_a_private_key_entry(keys: dict[str, OKPKey]) -> None:
    from device.errors import ConfigError

    entry = operator_entry("x", keys["admin"].as_dict(private=True), ["admin"])
    with pytest.raises(ConfigError, match="public JWK"):
        Keyring.from_data({"operators": [entry]})

