"""The receiver rejects and counts tampered envelopes, unknown devices and replayed result ids."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from device.bureau.receiver import Receiver
from device.publish import envelope as env
from device.publish import identity
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _send(client: mqtt.Client, topic: str, token: str) -> None:
    client.publish(topic, token.encode(), qos=1).wait_for_publish(5)


def _expect(receiver: Receiver, reason: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while receiver.counters[reason] < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.counters[reason] == count, receiver.status()


def test_rejections_are_counted_per_reason(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    bureau_public = identity.load_okp(bureau.public_jwk, "bureau public key")
    with Broker(pki, tmp_path / "broker") as broker:
        for name, known in (("dev-1", True), ("dev-2", True), ("dev-x", False)):
            provision_device(pki, bureau, tmp_path / name, name, broker.port, register=known)
        keys = {name: identity.load_signing_key(tmp_path / name / "device.key")
                for name in ("dev-1", "dev-2", "dev-x")}
        signer = env.Signer("dev-1", keys["dev-1"], bureau_public)
        receiver = make_receiver(pki, bureau, broker.host, broker.port, tmp_path / "r.db")
        receiver.start()
        assert receiver.wait_ready(10)
        dev1 = broker.client(pki.client("dev-1"))
        topic = "faceterm/v1/t1/dev-1/result"
        first = signer.make(RECORD, {"id_number": "11010519491231002X", "name": "李四"}, 1)
        _send(dev1, topic, first.token)
        _expect(receiver, "stored", 1)

        _send(dev1, topic, first.token)  # the same envelope again: a wire duplicate
        _expect(receiver, "duplicate", 1)

        head, body, sig = first.token.split(".")
        _send(dev1, topic, f"{head}.{body}.{sig[::-1]}")  # tampered signature
        forged = dict(_claims(first.token), record={**RECORD, "decision": "fail"})
        forged_body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=")
        _send(dev1, topic, f"{head}.{forged_body.decode()}.{sig}")  # tampered record
        _expect(receiver, "bad_signature", 2)

        stranger = env.Signer("dev-x", keys["dev-x"], bureau_public).make(RECORD, None, 1)
        devx = broker.client(pki.client("dev-x"))
        _send(devx, "faceterm/v1/t1/dev-x/result", stranger.token)
        _expect(receiver, "unknown_device", 1)

        replay = dict(_claims(first.token), seq=2, record={**RECORD, "decision": "refer"})
        _send(dev1, topic, env.sign(replay, keys["dev-1"], "dev-1"))  # reused result id
        _expect(receiver, "replayed_id", 1)

        reused_seq = env.Signer("dev-1", keys["dev-1"], bureau_public).make(RECORD, None, 1)
        _send(dev1, topic, reused_seq.token)  # a new id on an already used seq
        _expect(receiver, "replayed_seq", 1)

        other = env.Signer("dev-2", keys["dev-2"], bureau_public).make(RECORD, None, 5)
        _send(dev1, topic, other.token)  # dev-2's valid envelope, on dev-1's topic
        _expect(receiver, "topic_mismatch", 1)

        _send(dev1, topic, "garbage")
        _expect(receiver, "malformed", 1)
        assert receiver.store.count() == 1
        receiver.stop()
        for client in (dev1, devx):
            client.disconnect()
            client.loop_stop()
    assert receiver.counters["stored"] == 1
    assert sum(receiver.counters.values()) == 9
