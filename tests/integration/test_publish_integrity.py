"""Delivery integrity with real mosquitto and the real bureau receiver: a result the broker
refuses for good is quarantined and does not block later ones; losing the outbox loses nothing
that was acknowledged and does not make the bureau refuse later results as replays."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from device.bureau.receiver import Receiver
from device.bureau.store import ResultStore
from device.publish.publisher import Publisher
from tests.support.broker import PREFIX, Broker
from tests.support.pki import BureauFiles, TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
NOT_AUTHORIZED = 135
# dev-1 may publish only under tenant t1 (a tenant it left, t0, is refused with 135).
ACL = (
    "user dev-1",
    f"topic readwrite {PREFIX}/t1/dev-1/#",
    "",
    "user bureau",
    f"topic read {PREFIX}/+/+/result",
    f"topic read {PREFIX}/+/+/status",
    f"topic read {PREFIX}/+/+/telemetry",
    f"topic write {PREFIX}/+/+/cmd/#",
)


def _wait(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


World = tuple[TestPki, BureauFiles, Broker, Receiver]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    with Broker(pki, tmp_path / "broker", acl=ACL) as broker:
        provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port)
        receiver = make_receiver(pki, bureau, broker.host, broker.port, tmp_path / "r.db")
        receiver.start()
        assert receiver.wait_ready(10)
        yield pki, bureau, broker, receiver
        receiver.stop()


def test_a_result_the_broker_refuses_is_quarantined_and_later_results_are_stored(
    world: World, tmp_path: Path
) -> None:
    pki, bureau, broker, receiver = world
    config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port)
    publisher = Publisher(config)
    publisher.open()  # a row left under the tenant the device used before: refused for good
    signer = publisher._signer
    assert signer is not None
    publisher.outbox.append(f"{PREFIX}/t0/dev-1/result", lambda seq: signer.make(RECORD, None, seq))
    publisher.start()
    for _ in range(3):
        publisher.submit(RECORD, None)
    assert receiver.wait_until(3, 15), receiver.status()
    assert _wait(lambda: publisher.outbox.depth == 0, 10), publisher.status()
    ((seq, _jti, code, _reason),) = publisher.outbox.quarantine_rows()
    assert seq == 1 and code == NOT_AUTHORIZED
    telemetry = publisher.telemetry_payload()
    assert telemetry["quarantined"] == 1 and "results_quarantined" in telemetry["alarms"]
    assert "results_quarantined" in publisher.status()["alarms"]
    publisher.stop()
    assert receiver.counters["stored"] == 3


def test_outbox_deleted_between_results_then_four_more_are_all_stored(
    world: World, tmp_path: Path
) -> None:
    pki, bureau, broker, receiver = world
    config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port)
    first = Publisher(config)
    first.start()
    acked = [first.submit(RECORD, None) for _ in range(3)]
    assert first.wait_drained(15) and receiver.wait_until(3, 15)
    first.stop()
    outbox = config.state_path(config.outbox.path)
    for name in (outbox.name, outbox.name + "-wal", outbox.name + "-shm"):
        (outbox.parent / name).unlink(missing_ok=True)
    second = Publisher(config)
    second.start()
    later = [second.submit(RECORD, None) for _ in range(4)]
    assert second.wait_drained(15), second.status()
    assert receiver.wait_until(7, 15), receiver.status()
    second.stop()
    receiver.stop()
    store = ResultStore(tmp_path / "r.db")
    store.open()
    rows = list(store.rows())
    store.close()
    assert [r.jti for r in rows] == acked + later  # nothing acknowledged is lost
    seqs = [r.seq for r in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 7
    # nothing refused; the restart skips at most the seqs reserved ahead (a logged gap)
    assert set(receiver.counters) <= {"stored", "sequence_gap"}, receiver.counters
    assert receiver.counters["stored"] == 7 and receiver.counters["dead_lettered"] == 0
    assert second.status()["sequence"]["epoch"] == first.status()["sequence"]["epoch"]
