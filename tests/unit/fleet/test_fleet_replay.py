"""Fleet commands under attack: strict claims, replay protection that survives losing the job
store, and a purge that never makes a forgotten jti valid again."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from device.errors import CommandRejected
from device.fleet.auth import Audience, verify
from device.fleet.jobs import JobPolicy, JobRunner
from device.fleet.keyring import Keyring, operator_entry
from device.fleet.replay import JobStore
from device.fleet.sign import sign_command

NOW = 1_800_000_000.0
DAY = 24 * 3600.0
AUD = Audience("kiosk-1")


@pytest.fixture(scope="module")
def key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


@pytest.fixture(scope="module")
def keyring(key: OKPKey) -> Keyring:
    entry = operator_entry("admin", key.as_dict(private=False), ["admin"])
    return Keyring.from_data({"operators": [entry]})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(key: OKPKey, header: str, payload: str) -> bytes:
    """A correctly signed compact JWS over exactly these header and payload texts."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    signature = key.private_key.sign(signing_input.encode())  # type: ignore[union-attr]
    return f"{signing_input}.{b64(signature)}".encode()


def claims_text(**override: Any) -> str:
    claims = {"aud": "kiosk-1", "iat": int(NOW), "exp": int(NOW + 60), "jti": "j" * 16,
              "cmd": "status.get", "params": {}, **override}
    return json.dumps(claims)


def reason(token: bytes | str, keyring: Keyring, skew_s: float = 60) -> str:
    raw = token.encode() if isinstance(token, str) else token
    with pytest.raises(CommandRejected) as info:
        verify(raw, keyring, AUD, NOW, skew_s=skew_s, max_bytes=8192)
    return info.value.reason


HEADER = '{"alg": "Ed25519", "kid": "admin"}'


def test_nan_in_iat_does_not_skip_the_24h_lifetime_cap(key: OKPKey, keyring: Keyring) -> None:
    ten_years = int(NOW + 10 * 365 * DAY)
    token = raw_token(key, HEADER, claims_text(iat=float("nan"), exp=ten_years))
    assert reason(token, keyring) == "malformed"


@pytest.mark.parametrize("claims", [
    {"iat": float("inf")}, {"exp": float("inf")}, {"iat": float("-inf")}, {"nbf": float("nan")},
    {"iat": 2**63}, {"exp": 2**63}, {"iat": -1}, {"iat": True}, {"iat": "1800000000"},
    {"exp": int(NOW) - 10},  # negative lifetime: exp before iat
])
def test_non_finite_or_out_of_range_times_are_refused(
    key: OKPKey, keyring: Keyring, claims: dict[str, Any]
) -> None:
    assert reason(raw_token(key, HEADER, claims_text(**claims)), keyring) == "malformed"


def test_duplicate_claim_keys_are_refused(key: OKPKey, keyring: Keyring) -> None:
    text = claims_text()[:-1] + ', "cmd": "config.get"}'
    assert reason(raw_token(key, HEADER, text), keyring) == "malformed"


def test_duplicate_header_keys_are_refused(key: OKPKey, keyring: Keyring) -> None:
    header = '{"alg": "Ed25519", "kid": "nobody", "kid": "admin"}'
    assert reason(raw_token(key, header, claims_text()), keyring) == "malformed"


def test_iat_and_exp_nan_do_not_crash_the_job_store(
    tmp_path: Path, key: OKPKey, keyring: Keyring
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3", tmp_path / "epoch")
    store.open()
    runner = JobRunner(keyring, store, JobPolicy(AUD, 60.0, 8192),
                       {"status.get": lambda command: {"ok": True}}, clock=lambda: NOW)
    token = raw_token(key, HEADER, claims_text(iat=float("nan"), exp=float("nan")))
    reply = runner.process(token)
    assert (reply["status"], reply["reason"]) == ("REJECTED", "malformed")
    good = runner.process(sign_command(key, "admin", "kiosk-1", "status.get", now_s=NOW).encode())
    assert good["status"] == "SUCCEEDED"
    store.close()


def runner_for(folder: Path, keyring: Keyring, clock: list[float], skew_s: float = 60.0
               ) -> tuple[JobRunner, JobStore]:
    store = JobStore(folder / "fleet-jobs.sqlite3", folder / "keys" / "fleet-epoch",
                     clock=lambda: clock[0])
    store.open()
    store.purge(clock[0])
    runner = JobRunner(keyring, store, JobPolicy(AUD, skew_s, 8192),
                       {"status.get": lambda command: {"ok": True}}, clock=lambda: clock[0])
    return runner, store


@pytest.mark.parametrize("loss", ["deleted", "emptied", "garbage", "half-truncated"])
def test_a_command_runs_only_once_even_after_the_job_store_is_lost(
    tmp_path: Path, key: OKPKey, keyring: Keyring, loss: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "keys").mkdir()
    clock = [NOW - 3600]
    runner, store = runner_for(tmp_path, keyring, clock)
    for n in range(200):  # enough pages that a half-truncated file is damaged, not empty
        store.claim(f"old-job-{n:04d}", "status.get", NOW - 3600, NOW - 3000, NOW - 3600)
    clock[0] = NOW
    token = sign_command(key, "admin", "kiosk-1", "status.get", ttl_s=600, now_s=NOW).encode()
    assert runner.process(token)["status"] == "SUCCEEDED"
    store.close()
    path = tmp_path / "fleet-jobs.sqlite3"
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    size = path.stat().st_size
    if loss == "deleted":
        path.unlink()
    elif loss == "emptied":
        path.write_bytes(b"")
    elif loss == "garbage":
        path.write_bytes(b"this is not a database\n" * 100)
    else:
        with open(path, "r+b") as handle:
            handle.truncate(size // 2)
    clock[0] = NOW + 5
    with caplog.at_level(logging.ERROR, logger="device.fleet.replay"):
        runner, store = runner_for(tmp_path, keyring, clock)
    reply = runner.process(token)
    assert (reply["status"], reply["reason"]) == ("REJECTED", "issued_before_store")
    fresh = sign_command(key, "admin", "kiosk-1", "status.get", now_s=NOW + 6).encode()
    clock[0] = NOW + 6
    assert runner.process(fresh)["status"] == "SUCCEEDED"
    if loss in ("garbage", "half-truncated"):
        assert store.set_aside is not None and store.set_aside.exists()
        assert "renamed to fleet-jobs.sqlite3.corrupt-" in caplog.text
    store.close()


def test_the_epoch_lives_beside_the_device_key_as_a_private_file(
    tmp_path: Path, keyring: Keyring
) -> None:
    (tmp_path / "keys").mkdir()
    _, store = runner_for(tmp_path, keyring, [NOW])
    store.close()
    epoch = tmp_path / "keys" / "fleet-epoch"
    assert stat.S_IMODE(epoch.stat().st_mode) == 0o600
    assert float(epoch.read_text()) == NOW
    epoch.write_text(f"{NOW + 100:.0f}\n")  # an old store brought back does not lower it
    _, store = runner_for(tmp_path, keyring, [NOW + 200])
    assert store.floor == NOW + 100
    store.close()


def test_a_purged_jti_stays_refused_when_the_clock_skew_is_raised(
    tmp_path: Path, key: OKPKey, keyring: Keyring
) -> None:
    (tmp_path / "keys").mkdir()
    clock = [NOW]
    runner, store = runner_for(tmp_path, keyring, clock, skew_s=60)
    token = sign_command(key, "admin", "kiosk-1", "status.get", ttl_s=60, now_s=NOW).encode()
    assert runner.process(token)["status"] == "SUCCEEDED"
    store.close()
    steps = [
        (NOW + 200, 60.0, "expired"),  # restart: the start-up purge runs with 60 s of skew
        (NOW + 210, 3600.0, "replayed"),  # skew raised to an hour: still known, not run again
        (NOW + DAY + 200, 3600.0, "expired"),  # a day later the jti is forgotten ...
        (NOW + 300, 3600.0, "expired"),  # ... and stays refused when the clock steps back
    ]
    for now, skew_s, expected in steps:
        clock[0] = now
        runner, store = runner_for(tmp_path, keyring, clock, skew_s=skew_s)
        reply = runner.process(token)
        assert (reply["status"], reply["reason"]) == ("REJECTED", expected), (now - NOW, reply)
        store.close()
