"""A district mosquitto bridged to the central one (mosquitto's own bridge, TLS, persistent
session): the device publishes to the district broker, the receiver listens on the central one.
The bridge's link is cut mid-stream and restored, then the district broker itself is restarted:
every result reaches the bureau once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from device.bureau.store import ResultStore
from device.demo.broker import bridge_acl
from device.publish.publisher import Publisher
from tests.support.broker import Bridge, Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": [],
          "models": {"embed": "sface@0123456789ab"}}
TOTAL = 300
BRIDGE = "bridge-district-7"


def _wait(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_cut_bridge_and_restarted_district_broker_lose_nothing(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    db = tmp_path / "results.sqlite3"
    files = pki.client(BRIDGE)
    with Broker(pki, tmp_path / "central", extra_acl=bridge_acl(BRIDGE)) as central, \
            TcpProxy(central.port) as link:
        bridge = Bridge(BRIDGE, link.host, link.port, files.ca, files.cert, files.key)
        with Broker(pki, tmp_path / "district", bridge=bridge) as district:
            config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", district.port)
            receiver = make_receiver(pki, bureau, central.host, central.port, db)
            receiver.start()
            assert receiver.wait_ready(10)
            publisher = Publisher(config)
            publisher.start()
            submitted: list[str] = []

            def produce() -> None:
                for _ in range(TOTAL):
                    submitted.append(publisher.submit(RECORD, None))
                    time.sleep(0.01)

            producer = threading.Thread(target=produce)
            producer.start()
            try:
                assert _wait(lambda: receiver.counters["stored"] >= 50, 30), receiver.status()
                link.cut()  # the district's WAN link
                cut_at = receiver.counters["stored"]
                time.sleep(1.0)
                queued = len(submitted) - receiver.counters["stored"]
                link.restore()
                assert _wait(lambda: receiver.counters["stored"] >= 150, 30)
                district.stop()  # graceful: the queued bridge messages are persisted
                district.start()
                producer.join(30)
                assert _wait(lambda: receiver.counters["stored"] >= TOTAL, 60), \
                    (receiver.status(), publisher.status())
                assert publisher.wait_drained(10)
            finally:
                producer.join(30)
                publisher.stop()
                receiver.stop()
    assert queued > 20 and cut_at < TOTAL  # results really waited behind the cut link
    store = ResultStore(db)
    store.open()
    seqs = sorted(row.seq for row in store.rows())
    store.close()
    assert seqs == list(range(1, TOTAL + 1))
    assert receiver.counters["stored"] == TOTAL
