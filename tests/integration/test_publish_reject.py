"""The receiver rejects and counts tampered envelopes, unknown devices and replayed result ids."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from joserfc.jwk import OKPKey

from device.bureau.receiver import Receiver
from device.publish import envelope as env
from device.publish import identity
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
TOPIC = "faceterm/v1/t1/dev-1/result"


@dataclass
class Scene:
    pki: TestPki
    broker: Broker
    receiver: Receiver
    dev1: mqtt.Client
    keys: dict[str, OKPKey]
    bureau_public: OKPKey

    def signer(self, device: str) -> env.Signer:
        return env.Signer(device, self.keys[device], self.bureau_public)

    def send(self, token: str, topic: str = TOPIC, client: mqtt.Client | None = None) -> None:
        (client or self.dev1).publish(topic, token.encode(), qos=1).wait_for_publish(5)

    def expect(self, reason: str, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.receiver.counters[reason] < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.receiver.counters[reason] == count, self.receiver.status()


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    with Broker(pki, tmp_path / "broker") as broker:
        for name, known in (("dev-1", True), ("dev-2", True), ("dev-x", False)):
            provision_device(pki, bureau, tmp_path / name, name, broker.port, register=known)
        keys = {
            name: identity.load_signing_key(tmp_path / name / "device.key")
            for name in ("dev-1", "dev-2", "dev-x")
        }
        receiver = make_receiver(pki, bureau, broker.host, broker.port, tmp_path / "r.db")
        receiver.start()
        assert receiver.wait_ready(10)
        dev1 = broker.client(pki.client("dev-1"))
        yield Scene(
            pki,
            broker,
            receiver,
            dev1,
            keys,
            identity.load_okp(bureau.public_jwk, "bureau public key"),
        )
        dev1.disconnect()
        dev1.loop_stop()
        receiver.stop()


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_envelopes_and_wire_duplicates(scene: Scene) -> None:
    first = scene.signer("dev-1").make(
        RECORD, {"id_number": "11010519491231002X", "name": "李四"}, 1
    )
    scene.send(first.token)
    scene.expect("stored", 1)
    scene.send(first.token)  # the same envelope again: a wire duplicate, dropped
    scene.expect("duplicate", 1)
    head, body, sig = first.token.split(".")
    scene.send(f"{head}.{body}.{sig[::-1]}")  # tampered signature
    forged = dict(_claims(first.token), record={**RECORD, "decision": "fail"})
    scene.send(f"{head}.{_b64(forged)}.{sig}")  # tampered record
    scene.expect("bad_signature", 2)
    scene.send("garbage")
    scene.expect("malformed", 1)
    assert scene.receiver.store.count() == 1
    stored = next(iter(scene.receiver.store.rows()))
    assert stored.record == RECORD and stored.personal == {
        "id_number": "11010519491231002X",
        "name": "李四",
    }


def test_unknown_device_key(scene: Scene) -> None:
    stranger = scene.signer("dev-x").make(RECORD, None, 1)
    devx = scene.broker.client(scene.pki.client("dev-x"))
    scene.send(stranger.token, "faceterm/v1/t1/dev-x/result", devx)
    scene.expect("unknown_device", 1)
    devx.disconnect()
    devx.loop_stop()
    assert scene.receiver.store.count() == 0


def test_replayed_result_id_and_seq(scene: Scene) -> None:
    first = scene.signer("dev-1").make(RECORD, None, 1)
    scene.send(first.token)
    scene.expect("stored", 1)
    replay = dict(_claims(first.token), seq=2, record={**RECORD, "decision": "refer"})
    scene.send(env.sign(replay, scene.keys["dev-1"], "dev-1"))  # a reused result id
    scene.expect("replayed_id", 1)
    scene.send(scene.signer("dev-1").make(RECORD, None, 1).token)  # new id, used seq
    scene.expect("replayed_seq", 1)
    other = scene.signer("dev-2").make(RECORD, None, 5)
    scene.send(other.token)  # dev-2's valid envelope on dev-1's topic
    scene.expect("topic_mismatch", 1)
    assert scene.receiver.store.count() == 1
    assert sum(scene.receiver.counters.values()) == 4
