"""The jti replay cache and job records, in SQLite so that both survive restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

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
"""

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT"})


class JobStore:
    """Every accepted jti is recorded before its command runs: a replay is refused even after a
    restart, and a redelivered command is answered with its recorded status, never run twice."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("JobStore used before open()")
        return self._db

    def claim(self, jti: str, command: str, expires: float, now: float) -> dict[str, Any] | None:
        """Record jti as QUEUED; return None if new, else the existing job (a replay)."""
        with self._lock:
            row = self.db.execute(
                "SELECT jti, command, status, reason, result FROM jobs WHERE jti = ?", (jti,)
            ).fetchone()
            if row is not None:
                return _job(row)
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

    def purge(self, now: float, keep_s: float) -> int:
        """Forget jobs whose command expired more than keep_s ago (their jti can no longer pass
        the exp check anyway)."""
        with self._lock:
            cursor = self.db.execute("DELETE FROM jobs WHERE expires < ?", (now - keep_s,))
            return cursor.rowcount


def _job(row: tuple[Any, ...]) -> dict[str, Any]:
    jti, command, status, reason, result = row
    return {
        "jti": jti,
        "command": command,
        "status": status,
        "reason": reason,
        "result": json.loads(result) if result else None,
    }
