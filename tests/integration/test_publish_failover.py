"""Broker failover with real mosquitto: a device given `[mqtt] hosts = [A, B]` loses broker A
(SIGKILL) in the middle of a stream and every result still reaches the bureau through B, once.
A receiver is subscribed on each broker; both write into one store, de-duplicated by jti."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from device.bureau.store import ResultStore
from device.config import Config
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import BureauFiles, TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": [],
          "models": {"embed": "sface@0123456789ab"}}
PERSONAL = {"id_number": "11010519491231002X", "name": "张三"}
TOTAL = 300


def _wait(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _device(pki: TestPki, bureau: BureauFiles, folder: Path, brokers: list[Broker]) -> Config:
    config = provision_device(pki, bureau, folder, "dev-1", brokers[0].port)
    hosts = [f"{b.host}:{b.port}" for b in brokers]
    mqtt = config.mqtt.model_validate({**config.mqtt.model_dump(exclude={"host"}),
                                       "hosts": hosts})
    return config.model_copy(update={"mqtt": mqtt})


def _stored(db: Path) -> list[int]:
    store = ResultStore(db)
    store.open()
    try:
        return [row.seq for row in store.rows()]
    finally:
        store.close()


def test_killed_broker_fails_over_and_nothing_is_lost(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    db = tmp_path / "results.sqlite3"
    with Broker(pki, tmp_path / "a") as broker_a, Broker(pki, tmp_path / "b") as broker_b:
        config = _device(pki, bureau, tmp_path / "dev-1", [broker_a, broker_b])
        assert config.mqtt.brokers() == ((broker_a.host, broker_a.port),
                                         (broker_b.host, broker_b.port))
        receivers = [make_receiver(pki, bureau, b.host, b.port, db, name=f"bureau-{n}")
                     for n, b in (("a", broker_a), ("b", broker_b))]
        for receiver in receivers:
            receiver.start()
            assert receiver.wait_ready(10)
        publisher = Publisher(config)
        publisher.start()
        submitted: list[str] = []

        def produce() -> None:
            for _ in range(TOTAL):
                submitted.append(publisher.submit(RECORD, PERSONAL))
                time.sleep(0.01)

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            assert _wait(lambda: receivers[0].counters["stored"] >= 60, 30), \
                receivers[0].status()
            assert publisher.link.broker == 0
            broker_a.kill()  # mid-stream, while results are in flight
            producer.join(30)
            assert _wait(lambda: publisher.outbox.depth == 0 and len(submitted) == TOTAL, 60), \
                publisher.status()
            assert publisher.link.broker == 1 and publisher.status()["connected"]
            # PUBACK means broker B holds each result; the receiver gets them after that
            assert _wait(lambda: sum(r.counters["stored"] for r in receivers) >= TOTAL, 60), \
                [r.status() for r in receivers]
        finally:
            producer.join(30)
            publisher.stop()
            for receiver in receivers:
                receiver.stop()
    seqs = _stored(db)
    assert sorted(seqs) == list(range(1, TOTAL + 1)), [r.status() for r in receivers]
    through_b = receivers[1].counters["stored"]
    assert through_b > 0 and receivers[0].counters["stored"] + through_b == TOTAL
