"""A bureau scene for integration tests: a real mosquitto (TLS, ACLs), a real receiver on a
SQLite store, devices dev-1 and dev-2 registered under tenant t1 and dev-x not registered."""

from __future__ import annotations

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
from tests.support.pki import BureauFiles, TestPki, make_bureau, make_receiver, provision_device

TOPIC = "faceterm/v1/t1/dev-1/result"


@dataclass
class Scene:
    pki: TestPki
    broker: Broker
    receiver: Receiver
    dev1: mqtt.Client
    keys: dict[str, OKPKey]
    bureau_public: OKPKey
    bureau: BureauFiles
    root: Path

    def signer(self, device: str) -> env.Signer:
        return env.Signer(device, self.keys[device], self.bureau_public)

    def send(self, token: str, topic: str = TOPIC, client: mqtt.Client | None = None) -> None:
        (client or self.dev1).publish(topic, token.encode(), qos=1).wait_for_publish(5)

    def expect(self, reason: str, count: int) -> None:
        deadline = time.monotonic() + 20
        while self.receiver.counters[reason] < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.receiver.counters[reason] == count, self.receiver.status()

    def client(self, device: str) -> mqtt.Client:
        return self.broker.client(self.pki.client(device))


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
        made = Scene(
            pki,
            broker,
            receiver,
            dev1,
            keys,
            identity.load_okp(bureau.public_jwk, "bureau public key"),
            bureau,
            tmp_path,
        )
        yield made
        dev1.disconnect()
        dev1.loop_stop()
        made.receiver.stop()  # the one running now: a test may have restarted it


