"""The broker ACL per tenant (real mosquitto): a device publishes only under its registry
tenant; the generated ACL is reloaded (SIGHUP) without a broker restart, for new connections."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.broker import BUREAU_ACL, Broker, device_acl
from tests.support.pki import TestPki

pytestmark = pytest.mark.broker


def test_a_device_cannot_publish_under_another_tenant(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    acl = [*device_acl({"dev-1": "t1", "dev-2": "t2"}), *BUREAU_ACL]
    with Broker(pki, tmp_path / "broker", acl=acl) as broker:
        got: list[str] = []
        arrived = threading.Event()
        bureau = broker.client(pki.client("bureau"))
        bureau.on_message = lambda c, u, m: (got.append(m.topic), arrived.set())
        bureau.subscribe("faceterm/v1/+/+/result", qos=1)[0]
        device = broker.client(pki.client("dev-1"))
        refused = device.publish("faceterm/v1/t2/dev-1/result", b"x", qos=1)
        refused.wait_for_publish(10)
        device.publish("faceterm/v1/t1/dev-1/result", b"y", qos=1).wait_for_publish(10)
        assert arrived.wait(10)
        broker.reload_acl([*device_acl({"dev-1": "t2"}), *BUREAU_ACL])  # moved to tenant t2
        device.loop_stop()
        device.disconnect()  # mosquitto applies a reloaded ACL to new connections
        device = broker.client(pki.client("dev-1"))
        arrived.clear()
        moved = device.publish("faceterm/v1/t2/dev-1/result", b"z", qos=1)
        moved.wait_for_publish(10)
        assert arrived.wait(10)
        for client in (device, bureau):
            client.loop_stop()
            client.disconnect()
    assert got == ["faceterm/v1/t1/dev-1/result", "faceterm/v1/t2/dev-1/result"]


def test_device_acl_refuses_wildcards_in_ids() -> None:
    with pytest.raises(ValueError):
        device_acl({"dev-1/#": "t1"})
    assert device_acl({"d": "t"})[:2] == ["user d", "topic readwrite faceterm/v1/t/d/#"]
