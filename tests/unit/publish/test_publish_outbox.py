"""The durable outbox: seq across restarts, order, alarm, refusal when full, kill -9."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.errors import PublishError
from device.publish.envelope import Envelope, uuid7
from device.publish.outbox import Outbox


def _build(seq: int) -> Envelope:
    return Envelope(str(uuid7()), seq, f"token-{seq}")


def _open(path: Path, max_rows: int = 100, alarm: float = 0.8) -> Outbox:
    box = Outbox(path, max_rows, alarm)
    box.open()
    return box


def test_wal_full_sync_and_seq_survives_reopen(tmp_path: Path) -> None:
    box = _open(tmp_path / "o.db")
    seqs = [box.append("t", _build).seq for _ in range(5)]
    box.delete([1, 2, 3, 4, 5])
    box.close()
    box = _open(tmp_path / "o.db")
    assert seqs == [1, 2, 3, 4, 5]
    assert box.append("t", _build).seq == 6  # monotonic even when the outbox was empty
    db = sqlite3.connect(tmp_path / "o.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    box.close()


def test_pending_in_seq_order_and_delete(tmp_path: Path) -> None:
    box = _open(tmp_path / "o.db")
    for _ in range(10):
        box.append("a/b", _build)
    assert [r.seq for r in box.pending(0, 4)] == [1, 2, 3, 4]
    assert [r.seq for r in box.pending(4, 100)] == [5, 6, 7, 8, 9, 10]
    assert box.delete([2, 3, 99]) == 2
    assert box.depth == 8
    assert [r.seq for r in box.pending(0, 3)] == [1, 4, 5]
    box.close()


def test_failed_build_rolls_back(tmp_path: Path) -> None:
    box = _open(tmp_path / "o.db")

    def broken(seq: int) -> Envelope:
        raise PublishError("signing failed")

    with pytest.raises(PublishError):
        box.append("t", broken)
    assert box.depth == 0 and box.append("t", _build).seq == 1
    box.close()


def test_alarm_then_refusal_never_evicts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    box = _open(tmp_path / "o.db", max_rows=10, alarm=0.5)
    caplog.set_level(logging.WARNING)
    for _ in range(4):
        box.append("t", _build)
    assert not box.alarm
    box.append("t", _build)
    assert box.alarm and "alarm" in caplog.text
    for _ in range(5):
        box.append("t", _build)
    with pytest.raises(PublishError, match="outbox full"):
        box.append("t", _build)
    status = box.status()
    assert status["full"] and status["refused"] == 1 and status["depth"] == 10
    assert [r.seq for r in box.pending(0, 100)] == list(range(1, 11))  # nothing evicted
    box.delete(range(1, 8))
    assert not box.alarm and box.append("t", _build).seq == 11
    box.close()


CHILD = """
import sys
from pathlib import Path
from device.publish.envelope import Envelope, uuid7
from device.publish.outbox import Outbox
box = Outbox(Path(sys.argv[1]), 1_000_000, 0.9)
box.open()
while True:
    env = box.append("t", lambda s: Envelope(str(uuid7()), s, "x" * 600))
    print(env.seq, flush=True)
"""


def test_committed_rows_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None
    confirmed = [int(child.stdout.readline()) for _ in range(200)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    box = _open(path, max_rows=1_000_000)
    seqs = [r.seq for r in box.pending(0, 1_000_000)]
    assert set(confirmed) <= set(seqs)
    assert seqs == list(range(1, len(seqs) + 1))
    start = time.monotonic()
    assert box.append("t", _build).seq == len(seqs) + 1
    assert time.monotonic() - start < 1.0
    box.close()
