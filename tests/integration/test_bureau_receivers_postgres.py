"""Several receivers, exactly once: three `faceterm-bureau run` processes on one shared
subscription into one real PostgreSQL, one of them SIGKILLed and restarted every few
seconds while 2,000 results flow. Every result is stored once; none is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from device.bureau.store import ResultStore
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import BureauFiles, TestPki, make_bureau, provision_device
from tests.support.postgres import Postgres

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
DEVICES, PER_DEVICE = 4, 500


def _receiver(pki: TestPki, bureau: BureauFiles, broker: Broker, dsn: str, name: str,
              log: Path) -> subprocess.Popen[bytes]:
    files = pki.client("bureau")
    command = [sys.executable, "-m", "device.bureau", "run", "--broker",
               f"{broker.host}:{broker.port}", "--ca", str(files.ca), "--cert", str(files.cert),
               "--key", str(files.key), "--devices", str(bureau.registry), "--bureau-key",
               str(bureau.key), "--client-id", name, "--dsn", dsn]
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(Path.cwd())})


def _count(dsn: str) -> int:
    store = ResultStore(dsn=dsn)
    store.open()
    try:
        return store.count()
    finally:
        store.close()


def test_three_receivers_one_killed_repeatedly_store_every_result_once(
        tmp_path: Path, postgres: Postgres) -> None:
    dsn = postgres.fresh_database("receivers")
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    total = DEVICES * PER_DEVICE
    with Broker(pki, tmp_path / "broker") as broker:
        names = ("bureau-a", "bureau-b", "bureau-c")
        logs = {n: tmp_path / f"{n}.log" for n in names}
        procs = {n: _receiver(pki, bureau, broker, dsn, n, logs[n]) for n in names}
        configs = [provision_device(pki, bureau, tmp_path / f"d{i}", f"dev-{i}", broker.port)
                   for i in range(DEVICES)]
        publishers = [Publisher(c) for c in configs]
        for publisher in publishers:
            publisher.start()

        def feed() -> None:
            for _ in range(PER_DEVICE // 10):
                for publisher in publishers:
                    for _ in range(10):
                        publisher.submit(RECORD, None)
                time.sleep(0.05)

        feeder = threading.Thread(target=feed)
        feeder.start()
        kills = 0
        while feeder.is_alive() or not all(p.wait_drained(0) for p in publishers):
            time.sleep(2.5)  # long enough for a restarted receiver to take messages again
            victim = names[kills % 2]  # bureau-a and bureau-b in turn; bureau-c stays up
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait(10)
            procs[victim] = _receiver(pki, bureau, broker, dsn, victim, logs[victim])
            kills += 1
            assert kills < 60, "publishers did not drain"
        feeder.join()
        deadline = time.monotonic() + 120
        while _count(dsn) < total and time.monotonic() < deadline:
            time.sleep(0.5)
        for publisher in publishers:
            publisher.stop()
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.wait(30)
    store = ResultStore(dsn=dsn)
    store.open()
    rows = list(store.rows())
    store.close()
    assert kills >= 2
    assert len(rows) == total, f"{len(rows)} of {total} stored after {kills} kills"
    assert len({(r.device_id, r.seq) for r in rows}) == total  # none stored twice
    assert {r.seq for r in rows} == set(range(1, PER_DEVICE + 1))
    print(f"\n{total} stored once through 3 receivers with {kills} SIGKILLs; split:",
          {n: sum(r.receiver == n for r in rows) for n in names})
