"""`faceterm-bureau run | list | export` against a real broker, and `keygen`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.bureau import cli
from device.bureau.store import ResultStore, StoredResult
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, provision_device

pytestmark = pytest.mark.broker
PERSONAL = {"id_number": "11010519491231002X", "name": "赵六"}


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _run_receiver(
    pki: TestPki, broker: Broker, registry: Path, key: Path, db: Path
) -> subprocess.Popen[str]:
    files = pki.client("bureau")
    args = [
        "run",
        "--broker",
        f"{broker.host}:{broker.port}",
        "--ca",
        str(files.ca),
        "--cert",
        str(files.cert),
        "--key",
        str(files.key),
        "--devices",
        str(registry),
        "--bureau-key",
        str(key),
        "--db",
        str(db),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, "-m", "device.bureau", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_list_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    db = tmp_path / "results.sqlite3"
    with Broker(pki, tmp_path / "broker") as broker:
        config = provision_device(pki, bureau, tmp_path / "dev-1", "dev-1", broker.port)
        receiver = _run_receiver(pki, broker, bureau.registry, bureau.key, db)
        publisher = Publisher(config)
        publisher.start()
        ids = [publisher.submit({"decision": "pass", "attempt": n}, PERSONAL) for n in range(5)]
        deadline = time.monotonic() + 30
        while _stored(db) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        publisher.stop()
        receiver.send_signal(signal.SIGTERM)
        out, err = receiver.communicate(timeout=20)
    assert receiver.returncode == 0, err
    assert json.loads(out)["counters"]["stored"] == 5
    assert "11010519491231002X" not in err and "赵六" not in err
    assert cli.main(["list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == ids
    assert cli.main(["export", "--db", str(db)]) == 0
    masked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["seq"] for row in masked] == [1, 2, 3, 4, 5]
    assert masked[0]["personal"] == {"id_number": "1101**********002X", "name": "**"}
    assert cli.main(["export", "--db", str(db), "--personal"]) == 0
    full = json.loads(capsys.readouterr().out.splitlines()[0])
    assert full["personal"] == PERSONAL and full["record"] == {"decision": "pass", "attempt": 0}


def test_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["keygen", "--dir", str(tmp_path)]) == 0
    public = json.loads((tmp_path / "bureau.pub.jwk").read_text())
    assert public["crv"] == "X25519" and "d" not in public
    assert (tmp_path / "bureau.key").stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in capsys.readouterr().out


def test_dead_letters_and_purge_commands(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "results.sqlite3"
    store = ResultStore(db)
    store.open()
    old_ns = time.time_ns() - 500 * 86400 * 10**9
    store.insert(StoredResult("old", "dev-1", "t1", 1, 1, old_ns, "r", {}, None), "d", "t")
    store.insert(StoredResult("new", "dev-1", "t1", 2, 1, time.time_ns(), "r", {}, None), "d", "t")
    store.dead_letter(old_ns, "r", "faceterm/v1/t1/dev-1/result", "stale", "dev-1", b"x")
    store.close()
    assert cli.main(["dead-letters", "--db", str(db)]) == 0
    (letter,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert letter["reason"] == "stale" and letter["device_id"] == "dev-1"
    assert cli.main(["purge", "--db", str(db), "--older-than-days", "400"]) == 0
    purged = json.loads(capsys.readouterr().out)
    assert (purged["results"], purged["dead_letters"]) == (1, 1)
    assert cli.main(["purge", "--db", str(db), "--older-than-days", "0"]) == 2
