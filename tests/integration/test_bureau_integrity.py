"""Integrity under attack at the bureau, with real mosquitto and the real receiver: no message
can stop the bureau; stale, mis-tenanted, revoked and re-bound data is refused; a reset is not
a replay."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from typing import Any

import pytest
from joserfc import jws

from device.bureau.registry import DeviceRegistry
from device.publish import envelope as env
from tests.support.bureau_scene import TOPIC, Scene, scene
from tests.support.pki import make_receiver, receiver_link

pytestmark = pytest.mark.broker
__all__ = ["scene"]
RECORD: dict[str, Any] = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
DEV2 = "faceterm/v1/t1/dev-2/result"


def _claims(device: str, seq: int = 1, **changes: Any) -> dict[str, Any]:
    now = time.time()
    claims = {"iss": device, "iat": int(now), "jti": str(env.uuid7(int(now * 1000))),
              "seq": seq, "epoch": "epoch-a", "record": dict(RECORD)}
    claims.update(changes)
    return claims


def _raw_token(scene: Scene, device: str, payload: bytes) -> str:
    """A validly signed envelope around any payload bytes (what a compromised device can send)."""
    header = {"alg": env.SIG_ALG, "kid": device, "typ": env.TYPE}
    return jws.serialize_compact(header, payload, scene.keys[device], algorithms=[env.SIG_ALG])


def _send_claims(scene: Scene, device: str, claims: dict[str, Any], topic: str) -> None:
    client = scene.dev1 if device == "dev-1" else scene.client(device)
    scene.send(env.sign(claims, scene.keys[device], device), topic, client)


def _json(**changes: Any) -> bytes:
    return json.dumps(_claims("dev-1", **changes)).encode()


POISONS = {
    "seq 2**63": lambda: _json(seq=2**63),
    "iat 2**63": lambda: _json(seq=1, iat=2**63),
    "lone surrogate": lambda: _json(seq=1, record={"decision": "\ud800"}),
    "duplicate keys": lambda: b'{"seq": 1, "seq": 2, ' + _json(seq=3)[1:],
    "NaN": lambda: _json(seq=1, iat=float("nan")),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poison_result_is_dead_lettered_and_later_results_are_stored(
        scene: Scene, poison: str) -> None:
    scene.send(_raw_token(scene, "dev-1", POISONS[poison]()))
    dev2 = scene.client("dev-2")
    for seq in range(1, 11):
        scene.send(env.sign(_claims("dev-2", seq), scene.keys["dev-2"], "dev-2"), DEV2, dev2)
    scene.expect("stored", 10)
    scene.receiver.stop()  # a restart must not bring the poison back
    scene.receiver = make_receiver(scene.pki, scene.bureau, scene.broker.host, scene.broker.port,
                                   scene.root / "r.db")
    scene.receiver.start()
    assert scene.receiver.wait_ready(10)
    for seq in range(11, 21):
        scene.send(env.sign(_claims("dev-2", seq), scene.keys["dev-2"], "dev-2"), DEV2, dev2)
    scene.expect("stored", 10)
    assert scene.receiver.store.count() == 20
    letters = scene.receiver.store.dead_letters()
    assert len(letters) == 1 and letters[0].topic == TOPIC
    dev2.disconnect()
    dev2.loop_stop()


def test_stale_and_future_results_are_refused_but_an_unsynced_clock_is_flagged(
        scene: Scene) -> None:
    day = 86400
    _send_claims(scene, "dev-1", _claims("dev-1", 1, iat=int(time.time()) - 31 * day), TOPIC)
    _send_claims(scene, "dev-1", _claims("dev-1", 2, iat=0), TOPIC)
    scene.expect("stale", 2)
    _send_claims(scene, "dev-1", _claims("dev-1", 3, iat=int(time.time()) + 3600), TOPIC)
    scene.expect("future", 1)
    unsynced = dict(RECORD, clock={"synced": False, "last_sync_utc": None, "since_sync_s": None})
    _send_claims(scene, "dev-1", _claims("dev-1", 4, iat=86400 * 365, record=unsynced), TOPIC)
    scene.expect("stored", 1)
    (row,) = list(scene.receiver.store.rows())
    assert row.seq == 4 and row.clock_unsynced
    assert {d.reason for d in scene.receiver.store.dead_letters()} == {"stale", "future"}


def test_a_result_under_another_tenants_topic_is_refused(scene: Scene) -> None:
    # the broker lets dev-1 publish under any tenant (pattern +/%u); the registry says t1
    _send_claims(scene, "dev-1", _claims("dev-1", 1), "faceterm/v1/t2/dev-1/result")
    scene.expect("tenant_mismatch", 1)
    _send_claims(scene, "dev-1", _claims("dev-1", 2), TOPIC)
    scene.expect("stored", 1)
    assert [r.tenant for r in scene.receiver.store.rows()] == ["t1"]


def test_a_removed_or_revoked_device_is_refused_without_a_restart(scene: Scene) -> None:
    revoked = scene.root / "revoked.json"
    scene.receiver.stop()
    scene.receiver = type(scene.receiver)(
        receiver_link(scene.pki, scene.broker.host, scene.broker.port, "bureau-1"),
        DeviceRegistry(scene.bureau.registry, revoked, check_interval_s=0.0),
        scene.receiver.bureau_key, scene.receiver.store)
    scene.receiver.start()
    assert scene.receiver.wait_ready(10)
    _send_claims(scene, "dev-1", _claims("dev-1", 1), TOPIC)
    scene.expect("stored", 1)
    revoked.write_text(json.dumps({"revoked": ["dev-1"]}))
    _send_claims(scene, "dev-1", _claims("dev-1", 2), TOPIC)
    scene.expect("revoked_device", 1)
    registry = json.loads(scene.bureau.registry.read_text())
    del registry["dev-2"]
    scene.bureau.registry.write_text(json.dumps(registry))
    _send_claims(scene, "dev-2", _claims("dev-2", 1), DEV2)
    scene.expect("unknown_device", 1)
    assert scene.receiver.store.count() == 1


def test_personal_data_copied_from_another_result_is_refused(scene: Scene) -> None:
    original = scene.signer("dev-1").make(RECORD, {"id_number": "11010519491231002X"}, 1)
    scene.send(original.token)
    scene.expect("stored", 1)
    payload = original.token.split(".")[1]
    stolen = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["pii"]
    _send_claims(scene, "dev-2", _claims("dev-2", 1, pii=stolen), DEV2)
    scene.expect("pii_unbound", 1)
    assert scene.receiver.store.count() == 1


def test_a_sequence_reset_is_stored_and_logged_and_a_replay_is_not_silent(
        scene: Scene, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="device.bureau")
    first = [_claims("dev-1", seq) for seq in (1, 2, 3)]
    for claims in first:
        _send_claims(scene, "dev-1", claims, TOPIC)
    scene.expect("stored", 3)
    # the outbox (and the counter) were lost: the device starts a new epoch at seq 1
    epoch = str(uuid.uuid4())
    for seq in (1, 2, 3, 4):
        _send_claims(scene, "dev-1", _claims("dev-1", seq, epoch=epoch), TOPIC)
    scene.expect("stored", 7)
    assert scene.receiver.counters["sequence_reset"] == 1
    assert any("sequence reset by dev-1" in r.getMessage() for r in caplog.records)
    _send_claims(scene, "dev-1", _claims("dev-1", 2, epoch=epoch), TOPIC)  # a used seq, new jti
    scene.expect("replayed_seq", 1)
    scene.send(env.sign(first[0], scene.keys["dev-1"], "dev-1"))  # a wire duplicate
    scene.expect("duplicate", 1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("duplicate delivery of dev-1 seq 1" in m for m in messages)
    assert any("dead-lettered" in m and "replayed_seq" in m for m in messages)
