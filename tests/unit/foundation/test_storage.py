"""device/storage.py on real files: garbage, half-truncated, held, and a size-limited disk."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from device.storage import (
    DamagePolicy,
    DiskFull,
    StorageHeld,
    held_marker,
    immediate,
    open_sqlite_or_quarantine,
    release_hold,
)


def _filled(path: Path, rows: int = 400) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(i, "x" * 200) for i in range(rows)])
    sqlite3.connect(path).close()


def test_a_garbage_file_is_renamed_aside_and_a_fresh_database_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"this is not a database at all\n" * 200)
    with caplog.at_level(logging.ERROR, logger="device.storage"):
        opened = open_sqlite_or_quarantine(path, DamagePolicy.FRESH)
    opened.db.execute("CREATE TABLE ok (x)")
    assert opened.renamed_to is not None and opened.renamed_to.name.startswith(
        "outbox.sqlite3.corrupt-")
    assert opened.renamed_to.read_bytes().startswith(b"this is not a database")
    assert "renamed aside" in caplog.text and opened.renamed_to.name in caplog.text
    opened.db.close()


def test_a_half_truncated_database_is_renamed_aside(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    _filled(path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    opened = open_sqlite_or_quarantine(path, DamagePolicy.FRESH)
    assert opened.renamed_to is not None and opened.problem
    assert opened.db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
    opened.db.close()


def test_a_sound_database_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "ok.sqlite3"
    _filled(path, rows=3)
    opened = open_sqlite_or_quarantine(path, DamagePolicy.HOLD)
    assert opened.renamed_to is None
    assert opened.db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 3
    opened.db.close()


def test_a_damaged_held_store_stays_refused_until_the_operator_releases_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "templates.sqlite3"
    path.write_bytes(b"\x00garbage" * 512)
    with pytest.raises(StorageHeld, match="renamed aside"):
        open_sqlite_or_quarantine(path, DamagePolicy.HOLD)
    assert held_marker(path).exists() and not path.exists()
    with pytest.raises(StorageHeld):  # a restart does not start an empty store on its own
        open_sqlite_or_quarantine(path, DamagePolicy.HOLD)
    assert list(tmp_path.glob("templates.sqlite3.corrupt-*"))
    assert release_hold(path)
    open_sqlite_or_quarantine(path, DamagePolicy.HOLD).db.close()


def test_a_full_database_is_reported_as_disk_full_not_cannot_rollback(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite3"
    db = open_sqlite_or_quarantine(path, DamagePolicy.FRESH).db
    db.execute("CREATE TABLE t (v BLOB)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages + 4}")
    with pytest.raises(DiskFull, match="disk full"):
        for _ in range(100):
            with immediate(db, "small"):
                db.execute("INSERT INTO t VALUES (?)", (b"\x01" * 4096,))
    assert not db.in_transaction
    with immediate(db, "small"):  # the connection is still usable
        db.execute("DELETE FROM t")
    db.close()
