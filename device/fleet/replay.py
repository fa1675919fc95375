"""The jti replay cache and job records, in SQLite so that both survive restarts.

Losing the store must not reopen old commands: the store records its creation time, and a copy
(the "epoch") lives in a 0600 file beside the device key, outside the store. A command issued
before the later of the two is refused, so a deleted, emptied or corrupt store (which is renamed
aside and started afresh) cannot make an already-run command new again. Jobs are forgotten only a
full command lifetime after they expired, and the store remembers up to which expiry it forgot:
a forgotten jti stays refused even if the clock skew allowance is raised later.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.errors import CommandRejected
from device.secretfile import write_secret

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    jti TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    result TEXT,
    expires REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value REAL NOT NULL);
"""

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"})
KEEP_AFTER_EXPIRY_S = 24 * 3600.0  # the longest command lifetime, longer than any clock skew
EPOCH_NAME = "fleet-epoch"


def set_aside(path: Path, now: float) -> Path:
    """Rename an unreadable database (and its -wal/-shm files) to <name>.corrupt-<time>."""
    aside = path.with_name(f"{path.name}.corrupt-{int(now)}")
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.replace(aside.with_name(aside.name + suffix))
    path.replace(aside)
    return aside


class JobStore:
    """Every accepted jti is recorded before its command runs: a replay is refused even after a
    restart, and a redelivered command is answered with its recorded status, never run twice."""

    def __init__(self, path: Path, epoch_path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._epoch_path = epoch_path
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.floor = 0.0
        self.set_aside: Path | None = None

    def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _connect(self._path)
        except sqlite3.DatabaseError as exc:
            self.set_aside = set_aside(self._path, self._clock())
            log.error("fleet job store %s is unreadable (%s): renamed to %s, starting a fresh "
                      "one; commands issued before now are refused", self._path, exc,
                      self.set_aside.name)
            self._db = _connect(self._path)
        self.floor = self._epoch()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("JobStore used before open()")
        return self._db

    def _meta(self, name: str) -> float | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return float(row[0]) if row else None

    def _set_meta(self, name: str, value: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def _epoch(self) -> float:
        """The later of the store's creation time and the epoch file; both updated to it."""
        created = self._meta("created")
        if created is None:
            created = float(math.floor(self._clock()))  # iat is whole seconds
            self._set_meta("created", created)
        kept = _read_epoch(self._epoch_path)
        epoch = max(created, kept or 0.0)
        if self._epoch_path is not None and kept != epoch:
            try:
                write_secret(self._epoch_path, f"{epoch:.0f}\n".encode())
            except OSError as exc:
                log.warning("cannot write the fleet epoch %s (%s): it is kept in the job "
                            "store only", self._epoch_path, exc.strerror)
        return epoch

    def claim(self, jti: str, command: str, issued: float, expires: float, now: float
              ) -> dict[str, Any] | None:
        """Record jti as QUEUED; return None if new, else the existing job (a replay).
        CommandRejected if the command predates the store or expired before a purge."""
        if issued < self.floor:
            raise CommandRejected("issued_before_store", "issued before this job store began")
        with self._lock:
            row = self.db.execute(
                "SELECT jti, command, status, reason, result FROM jobs WHERE jti = ?", (jti,)
            ).fetchone()
            if row is not None:
                return _job(row)
            if expires <= (self._meta("forgotten_until") or 0.0):
                raise CommandRejected("expired", "expired before jobs were forgotten")
            self.db.execute(
                "INSERT INTO jobs VALUES (?, ?, 'QUEUED', NULL, NULL, ?, ?)",
                (jti, command, expires, now),
            )
            return None

    def update(
        self, jti: str, status: str, now: float, reason: str | None = None, result: Any = None
    ) -> None:
        with self._lock:
            self.db.execute(
                "UPDATE jobs SET status = ?, reason = ?, result = ?, updated = ? WHERE jti = ?",
                (status, reason, json.dumps(result) if result is not None else None, now, jti),
            )

    def get(self, jti: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT jti, command, status, reason, result FROM jobs WHERE jti = ?", (jti,)
        ).fetchone()
        return _job(row) if row else None

    def unfinished(self) -> list[dict[str, Any]]:
        """Jobs a crash or restart interrupted (they are reported as TIMED_OUT or re-run)."""
        rows = self.db.execute(
            "SELECT jti, command, status, reason, result FROM jobs "
            "WHERE status IN ('QUEUED', 'IN_PROGRESS')"
        ).fetchall()
        return [_job(r) for r in rows]

    def purge(self, now: float) -> int:
        """Forget jobs that expired more than a command lifetime ago, remembering the latest
        expiry forgotten (a command expiring by then is refused from now on)."""
        cutoff = now - KEEP_AFTER_EXPIRY_S
        with self._lock:
            latest = self.db.execute(
                "SELECT max(expires) FROM jobs WHERE expires < ?", (cutoff,)).fetchone()[0]
            if latest is None:
                return 0
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self._set_meta("forgotten_until",
                               max(latest, self._meta("forgotten_until") or 0.0))
                count = self.db.execute("DELETE FROM jobs WHERE expires < ?", (cutoff,)).rowcount
            except sqlite3.Error:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return count


def _connect(path: Path) -> sqlite3.Connection:
    """Open and check the store; sqlite3.DatabaseError if the file is not a sound database."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check[0] if check else 'no answer'}")
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _read_epoch(path: Path | None) -> float | None:
    if path is None:
        return None
    try:
        value = float(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if math.isfinite(value) else None


def _job(row: tuple[Any, ...]) -> dict[str, Any]:
    jti, command, status, reason, result = row
    return {
        "jti": jti,
        "command": command,
        "status": status,
        "reason": reason,
        "result": json.loads(result) if result else None,
    }
