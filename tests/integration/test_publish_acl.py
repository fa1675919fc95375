"""Broker access control: a device certificate reaches only its own topics (tested by delivery)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device.demo.broker import tenant_acl
from tests.support.broker import Broker
from tests.support.pki import TestPki

pytestmark = pytest.mark.broker
NOT_AUTHORIZED = 135


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestPki, Broker]]:
    pki = TestPki.create(tmp_path / "pki")
    with Broker(pki, tmp_path / "broker") as broker:
        yield pki, broker


def _collect(client: mqtt.Client, topics: list[str]) -> list[str]:
    seen: list[str] = []
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: seen.append(m.topic)
    client.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
    client.subscribe([(topic, 1) for topic in topics])
    assert subscribed.wait(5)
    return seen


def _publish_code(client: mqtt.Client, topic: str) -> int:
    codes: dict[int, int] = {}
    done = threading.Event()

    def on_publish(c: mqtt.Client, u: object, mid: int, reason: mqtt.ReasonCode,
                   p: object) -> None:
        codes[mid] = int(reason.value)
        done.set()

    client.on_publish = on_publish
    mid = client.publish(topic, b"x", qos=1).mid
    assert done.wait(5)
    return codes[mid]


def test_device_cannot_publish_on_another_devices_topics(setup: tuple[TestPki, Broker]) -> None:
    pki, broker = setup
    dev1 = broker.client(pki.client("dev-1"))
    bureau = broker.client(pki.client("bureau"), "bureau-watch")
    seen = _collect(bureau, ["faceterm/v1/+/+/result"])
    assert _publish_code(dev1, "faceterm/v1/t1/dev-2/result") == NOT_AUTHORIZED
    assert _publish_code(dev1, "faceterm/v1/t1/dev-2/status") == NOT_AUTHORIZED
    assert _publish_code(dev1, "faceterm/v1/t1/dev-1/result") in (0, 16)
    time.sleep(0.3)
    assert seen == ["faceterm/v1/t1/dev-1/result"]
    for client in (dev1, bureau):
        client.disconnect()
        client.loop_stop()


def test_device_cannot_read_another_devices_topics(setup: tuple[TestPki, Broker]) -> None:
    pki, broker = setup
    spy = broker.client(pki.client("dev-1"))
    seen = _collect(spy, ["faceterm/v1/t1/dev-2/#", "faceterm/v1/+/+/result",
                          "$share/bureau/faceterm/v1/+/+/result", "#"])
    dev2 = broker.client(pki.client("dev-2"))
    bureau = broker.client(pki.client("bureau"), "bureau-cmd")
    for topic in ("result", "status", "telemetry"):
        dev2.publish(f"faceterm/v1/t1/dev-2/{topic}", b"secret", qos=1).wait_for_publish(5)
    bureau.publish("faceterm/v1/t1/dev-2/cmd/reboot", b"{}", qos=1).wait_for_publish(5)
    own = _collect(dev2, ["faceterm/v1/t1/dev-2/cmd/#"])
    bureau.publish("faceterm/v1/t1/dev-2/cmd/ping", b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert seen == []  # granted in SUBACK, but nothing is ever delivered
    assert own == ["faceterm/v1/t1/dev-2/cmd/ping"]  # the bureau writes, the device reads
    for client in (spy, dev2, bureau):
        client.disconnect()
        client.loop_stop()


def test_certificate_from_another_ca_is_refused(setup: tuple[TestPki, Broker]) -> None:
    pki, broker = setup
    files = pki.foreign_client("dev-1")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="dev-1", protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(files.ca), certfile=str(files.cert), keyfile=str(files.key),
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises((ssl.SSLError, OSError)):
        client.connect(broker.host, broker.port)
        for _ in range(20):  # TLS 1.3 may report the refusal on the first read
            if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                raise OSError("connection closed by broker")


def test_with_the_tenant_acl_a_device_cannot_publish_under_another_tenant(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    acl = tenant_acl({"dev-1": "t1", "dev-2": "t2"})
    with Broker(pki, tmp_path / "broker", acl=acl) as broker:
        dev1 = broker.client(pki.client("dev-1"))
        assert _publish_code(dev1, "faceterm/v1/t2/dev-1/result") == NOT_AUTHORIZED
        assert _publish_code(dev1, "faceterm/v1/t1/dev-1/result") < 128  # 16: no subscribers yet
        dev1.disconnect()
        dev1.loop_stop()


def test_the_tenant_acl_refuses_names_that_are_not_one_topic_level() -> None:
    with pytest.raises(ValueError):
        tenant_acl({"dev-1": "t1/#"})
