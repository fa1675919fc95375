"""Results made while the broker is down reach the bureau exactly once, in order per device."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.bureau.store import ResultStore
from device.errors import PublishError
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import BureauFiles, TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": [],
          "models": {"embed": "sface@0123456789ab"}}
PERSONAL = {"id_number": "11010519491231002X", "name": "张三"}

World = tuple[TestPki, BureauFiles, Broker]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    with Broker(pki, tmp_path / "broker") as broker:
        yield pki, bureau, broker


def _wait(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.02)
    return False


def test_thousand_results_made_offline_arrive_once_in_order(world: World,
                                                            tmp_path: Path) -> None:
    pki, bureau, broker = world
    configs = [provision_device(pki, bureau, tmp_path / name, name, broker.port)
               for name in ("dev-1", "dev-2")]
    receiver = make_receiver(pki, bureau, broker.host, broker.port, tmp_path / "r.db")
    receiver.start()
    assert receiver.wait_ready(10)
    broker.stop()  # the outage: the receiver's session survives in the broker's store
    publishers = [Publisher(config) for config in configs]
    for publisher in publishers:
        publisher.start()
    ids = {p.config.device.id: [p.submit(RECORD, PERSONAL) for _ in range(500)]
           for p in publishers}
    assert all(p.outbox.depth == 500 and not p.status()["connected"] for p in publishers)
    broker.start()
    assert receiver.wait_until(1000, 60), receiver.status()
    assert all(p.wait_drained(10) for p in publishers)
    for publisher in publishers:
        publisher.stop()
    receiver.stop()
    store = ResultStore(tmp_path / "r.db")
    store.open()
    rows = list(store.rows())
    store.close()
    assert len(rows) == 1000 and len({r.jti for r in rows}) == 1000
    for device, jtis in ids.items():
        mine = [r for r in rows if r.device_id == device]
        assert [r.seq for r in mine] == list(range(1, 501))  # arrival order = seq order
        assert [r.jti for r in mine] == jtis
        assert mine[0].personal == PERSONAL
    assert receiver.counters["stored"] == 1000
    assert set(receiver.counters) <= {"stored", "duplicate"}


def test_status_telemetry_and_command_hook(world: World, tmp_path: Path) -> None:
    pki, bureau, broker = world
    config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port,
                              mqtt={"telemetry_interval_s": 0.2})
    watcher = broker.client(pki.client("bureau"), "watcher")
    seen: dict[str, list[bytes]] = {}
    watcher.on_message = lambda c, u, m: seen.setdefault(m.topic.rsplit("/", 1)[1],
                                                          []).append(m.payload)
    watcher.subscribe("faceterm/v1/t1/dev-1/status", qos=1)
    watcher.subscribe("faceterm/v1/t1/dev-1/telemetry", qos=1)
    commands: list[tuple[str, bytes]] = []
    got_command = threading.Event()

    def on_command(topic: str, payload: bytes, props: object) -> None:
        commands.append((topic, payload))
        publisher.send("faceterm/v1/t1/dev-1/cmd/reply", b"done")
        got_command.set()

    publisher = Publisher(config, on_command=on_command)
    publisher.start()
    assert _wait(lambda: len(seen.get("telemetry", [])) >= 2, 10)
    assert seen["status"][-1] == b"online"
    telemetry = json.loads(seen["telemetry"][-1])
    assert {"uptime_s", "outbox_depth", "last_error", "models", "cpu_temp_c"} <= set(telemetry)
    watcher.publish("faceterm/v1/t1/dev-1/cmd/ping", b'{"op":"ping"}', qos=1)
    assert got_command.wait(10)
    assert commands == [("faceterm/v1/t1/dev-1/cmd/ping", b'{"op":"ping"}')]
    publisher.submit(RECORD, None)
    assert _wait(lambda: json.loads(seen["telemetry"][-1])["models"] != {}, 10)
    publisher.stop()
    assert _wait(lambda: seen["status"][-1] == b"offline", 10)
    watcher.disconnect()
    watcher.loop_stop()


def test_full_outbox_refuses_new_results_and_keeps_old_ones(tmp_path: Path) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", 1,
                              outbox={"max_rows": 10, "alarm_ratio": 0.5})
    publisher = Publisher(config)
    publisher.start()  # nothing listens on port 1: stays offline
    for _ in range(10):
        publisher.submit(RECORD, PERSONAL)
    with pytest.raises(PublishError, match="outbox full"):
        publisher.submit(RECORD, PERSONAL)
    status = publisher.status()
    assert status["outbox"]["alarm"] and status["outbox"]["depth"] == 10
    assert "cannot connect" in status["last_error"]
    publisher.stop()
