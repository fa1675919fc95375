"""Two receivers on one shared subscription split the stream; no result is stored twice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from device.bureau.receiver import Receiver
from device.bureau.store import ResultStore
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "refer", "reasons": ["low_quality"]}
PER_DEVICE = 300


def test_two_receivers_split_one_stream(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    db = tmp_path / "results.db"  # one store shared by both, as a bureau database would be
    with Broker(pki, tmp_path / "broker") as broker:
        configs = [provision_device(pki, bureau, tmp_path / name, name, broker.port)
                   for name in ("dev-1", "dev-2", "dev-3")]
        receivers = [make_receiver(pki, bureau, broker.host, broker.port, db, name)
                     for name in ("bureau-a", "bureau-b")]
        for receiver in receivers:
            receiver.start()
            assert receiver.wait_ready(10)
        publishers = [Publisher(config) for config in configs]
        for publisher in publishers:
            publisher.start()
            for _ in range(PER_DEVICE):
                publisher.submit(RECORD, {"id_number": "11010519491231002X", "name": "王五"})
        assert all(p.wait_drained(30) for p in publishers)
        total = PER_DEVICE * len(publishers)
        assert _wait_stored(receivers, total, 30)
        for publisher in publishers:
            publisher.stop()
        for receiver in receivers:
            receiver.stop()
    store = ResultStore(db)
    store.open()
    rows = list(store.rows())
    store.close()
    assert len(rows) == total and len({r.jti for r in rows}) == total
    by_receiver = {name: sum(r.receiver == name for r in rows) for name in ("bureau-a", "bureau-b")}
    assert all(count > total // 10 for count in by_receiver.values()), by_receiver
    assert sum(r.counters["stored"] for r in receivers) == total
    allowed = {"stored", "duplicate", "sequence_gap", "sequence_out_of_order"}
    assert all(set(r.counters) <= allowed for r in receivers), [r.counters for r in receivers]
    print(f"\nsplit: {by_receiver}")


def _wait_stored(receivers: list[Receiver], total: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while sum(r.counters["stored"] for r in receivers) < total:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
