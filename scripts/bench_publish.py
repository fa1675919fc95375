#!/usr/bin/env python3
"""Benchmark signed results through outbox -> mosquitto (TLS) -> bureau receiver.

    .venv/bin/python scripts/bench_publish.py [--live 3000] [--drain 10000] [--dir DIR]

Measures: submit() alone (seal + sign + durable SQLite commit), end-to-end results per second
with the broker and a receiver up, and the drain time of a backlog queued while the broker was
down. Uses a real mosquitto and a throw-away PKI; prints a table.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_common import PERSONAL, RECORD

from device.bureau.receiver import Receiver
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device


def _wait(receiver: Receiver, publisher: Publisher, stored: int, timeout_s: float) -> float:
    start = time.perf_counter()
    if not receiver.wait_until(stored, timeout_s) or not publisher.wait_drained(timeout_s):
        raise SystemExit(f"timed out: {receiver.status()} {publisher.status()}")
    return time.perf_counter() - start


def _crypto_rate(publisher: Publisher, count: int = 2000) -> float:
    signer = publisher._signer  # the same keys the run used
    assert signer is not None
    start = time.perf_counter()
    for seq in range(count):
        signer.make(RECORD, PERSONAL, seq + 1)
    return count / (time.perf_counter() - start)


def bench(root: Path, live: int, drain: int) -> list[tuple[str, str]]:
    pki = TestPki.create(root / "pki")
    bureau = make_bureau(root / "bureau")
    rows: list[tuple[str, str]] = []
    with Broker(pki, root / "broker") as broker:
        config = provision_device(pki, bureau, root / "dev", "bench-1", broker.port,
                                  outbox={"max_rows": max(100_000, drain * 2)})
        receiver = make_receiver(pki, bureau, broker.host, broker.port, root / "results.db")
        receiver.start()
        receiver.wait_ready(10)
        publisher = Publisher(config)
        publisher.start()
        start = time.perf_counter()
        for _ in range(live):
            publisher.submit(RECORD, PERSONAL)
        submit_s = time.perf_counter() - start
        total_s = submit_s + _wait(receiver, publisher, live, 120)
        rows.append(("submit() (seal+sign+commit), results/s", f"{live / submit_s:,.0f}"))
        rows.append(("submit() mean latency, ms", f"{submit_s / live * 1000:.2f}"))
        rows.append((f"end to end, {live} live results, results/s", f"{live / total_s:,.0f}"))
        broker.stop()
        start = time.perf_counter()
        for _ in range(drain):
            publisher.submit(RECORD, PERSONAL)
        queued_s = time.perf_counter() - start
        broker.start()
        drain_s = _wait(receiver, publisher, live + drain, 600)
        rows.append((f"queue {drain} results offline, s", f"{queued_s:.1f}"))
        rows.append((f"drain {drain} queued results after reconnect, s", f"{drain_s:.1f}"))
        rows.append(("drain rate, results/s", f"{drain / drain_s:,.0f}"))
        rows.append(("receiver counters", str(dict(receiver.counters))))
        rows.append(("seal+sign only (no storage), results/s", f"{_crypto_rate(publisher):,.0f}"))
        rows.append(("load average (1 min), 2-core machine", f"{os.getloadavg()[0]:.1f}"))
        publisher.stop()
        receiver.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", type=int, default=3000, help="results sent while connected")
    parser.add_argument("--drain", type=int, default=10_000, help="results queued offline")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp)
        rows = bench(root, args.live, args.drain)
    width = max(len(name) for name, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
