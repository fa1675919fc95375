"""A publishing process killed with SIGKILL 20 times: no result lost, none stored twice.

seq is reserved ahead in the sequence file (device/publish/sequence.py): a restart after a kill
skips at most `identity.sequence_reserve` numbers (a gap, which the bureau tells from a replay),
never reuses one.

Run as a script, this file is the publishing process itself (see child()).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.config import Config
from device.publish.publisher import Publisher

pytestmark = pytest.mark.broker
KILLS = 20
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
PERSONAL = {"id_number": "11010519491231002X", "name": "张三"}


def child(config_path: str, mode: str) -> int:
    """Submit results as fast as the outbox takes them, printing each id once it is durable."""
    config = Config.model_validate_json(Path(config_path).read_text(encoding="utf-8"))
    publisher = Publisher(config)
    publisher.start()
    if mode == "drain":
        drained = publisher.wait_drained(30)
        publisher.stop()
        return 0 if drained else 1
    attempt = 0
    while True:
        print(publisher.submit({**RECORD, "attempt": attempt}, PERSONAL), flush=True)
        attempt += 1
        time.sleep(0.002)


def _run_child(config_path: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, __file__, str(config_path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_while_publishing_loses_nothing(tmp_path: Path) -> None:
    from tests.support.broker import Broker
    from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device

    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    rng = random.Random(2026)
    with Broker(pki, tmp_path / "broker") as broker:
        config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port)
        config_path = tmp_path / "config.json"
        config_path.write_text(config.model_dump_json(), encoding="utf-8")
        receiver = make_receiver(pki, bureau, broker.host, broker.port, tmp_path / "r.db")
        receiver.start()
        assert receiver.wait_ready(10)
        confirmed = _kill_repeatedly(config_path, rng)
        watcher = broker.client(pki.client("bureau"), "watcher")
        last_will: list[bytes] = []
        watcher.on_message = lambda c, u, m: last_will.append(m.payload)
        watcher.subscribe("faceterm/v1/t1/dev-1/status", qos=1)
        drain = _run_child(config_path, "drain")
        assert drain.wait(60) == 0
        last = _committed(tmp_path / "dev-1" / "outbox.sqlite3")
        deadline = time.monotonic() + 30  # in order per device: the last one comes last
        while last not in {seq for seq, _ in _stored(tmp_path / "r.db")}:
            assert time.monotonic() < deadline, receiver.status()
            time.sleep(0.1)
        receiver.stop()
        watcher.disconnect()
    assert last_will[0] == b"offline"  # the retained last will after the final SIGKILL
    rows = _stored(tmp_path / "r.db")
    seqs = [seq for seq, _ in rows]
    total = len(rows)
    assert seqs == sorted(set(seqs)) and seqs[-1] == last  # once each, in order of arrival
    skipped = [b - a - 1 for a, b in itertools.pairwise(seqs) if b - a > 1]  # numbers skipped
    assert len(skipped) <= KILLS and max(skipped, default=0) <= config.identity.sequence_reserve
    assert set(confirmed) <= {jti for _, jti in rows}
    print(
        f"\n{KILLS} kills: {total} results, {len(skipped)} seq gaps after restarts, "
        f"{len(confirmed)} confirmed before the kill, "
        f"{receiver.counters['duplicate']} duplicates dropped by the receiver"
    )


def _kill_repeatedly(config_path: Path, rng: random.Random) -> list[str]:
    """Start the publishing child KILLS times, SIGKILL it at a random moment; the ids it saw."""
    confirmed: list[str] = []
    for _ in range(KILLS):
        process = _run_child(config_path, "submit")
        assert process.stdout is not None
        confirmed.append(process.stdout.readline().strip())
        time.sleep(rng.uniform(0.02, 0.3))
        process.send_signal(signal.SIGKILL)
        rest, _ = process.communicate(timeout=10)
        confirmed += rest.split()
    return confirmed


def _committed(outbox: Path) -> int:
    db = sqlite3.connect(outbox)
    (value,) = db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()
    depth = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    db.close()
    assert depth == 0
    return int(value)


def _stored(path: Path) -> list[tuple[int, str]]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT seq, jti FROM results ORDER BY received_ns").fetchall()
    db.close()
    return [(int(seq), str(jti)) for seq, jti in rows]


if __name__ == "__main__":
    sys.exit(child(sys.argv[1], sys.argv[2]))
