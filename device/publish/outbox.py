"""The durable outbox: every signed result is committed here before submit() returns.

SQLite in WAL mode with synchronous=FULL; one row per envelope (seq, jti, topic, payload,
created). The per-device sequence counter lives in the same database and is advanced in the same
transaction as the insert, so seq is monotonic across restarts and kill -9. Rows leave only when
the broker acknowledged them (PUBACK). Bounded: an alarm above alarm_ratio * max_rows, and new
results are refused when full; unsent rows are never evicted.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.errors import PublishError
from device.publish.envelope import Envelope

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, jti TEXT NOT NULL UNIQUE,"
    " topic TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO counters (name, value) VALUES ('seq', 0)",
)


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    jti: str
    topic: str
    payload: str
    created: float


class Outbox:
    """Thread-safe (one connection behind a lock); open() before use, close() after."""

    def __init__(
        self, path: Path, max_rows: int, alarm_ratio: float, busy_timeout_s: float = 5.0
    ) -> None:
        self.path = path
        self.max_rows = max_rows
        self.alarm_rows = max(1, int(max_rows * alarm_ratio))
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._depth = 0
        self.alarm = False
        self.refused = 0

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=self._busy_timeout_s, isolation_level=None,
            check_same_thread=False,
        )
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise PublishError(f"{self.path}: cannot switch the outbox to WAL mode")
        db.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            db.execute(statement)
        self._db = db
        self._depth = int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        self._update_alarm()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise PublishError("outbox is not open")
        return self._db

    def append(self, topic: str, build: Callable[[int], Envelope]) -> Envelope:
        """Allocate the next seq, build the envelope with it and commit both; or refuse if full."""
        with self._lock:
            db = self._conn()
            if self._depth >= self.max_rows:
                self.refused += 1
                raise PublishError(
                    f"outbox full ({self._depth} of {self.max_rows} unsent results): "
                    "result refused; restore the bureau link"
                )
            db.execute("BEGIN IMMEDIATE")
            try:
                seq = int(db.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
                envelope = build(seq + 1)
                db.execute(
                    "INSERT INTO outbox (seq, jti, topic, payload, created) VALUES (?,?,?,?,?)",
                    (envelope.seq, envelope.jti, topic, envelope.token, time.time()),
                )
                db.execute("UPDATE counters SET value=? WHERE name='seq'", (envelope.seq,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._depth += 1
            self._update_alarm()
            return envelope

    def pending(self, after_seq: int, limit: int) -> list[Row]:
        """Unacknowledged rows with seq > after_seq, oldest first."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT seq, jti, topic, payload, created FROM outbox WHERE seq > ?"
                " ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Row(*row) for row in rows]

    def delete(self, seqs: Iterable[int]) -> int:
        """Remove acknowledged rows in one transaction; returns how many went."""
        batch = [(seq,) for seq in seqs]
        if not batch:
            return 0
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                before = db.total_changes
                db.executemany("DELETE FROM outbox WHERE seq = ?", batch)
                removed = db.total_changes - before
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._depth -= removed
            self._update_alarm()
        return removed

    @property
    def depth(self) -> int:
        return self._depth

    def last_seq(self) -> int:
        with self._lock:
            row = self._conn().execute("SELECT value FROM counters WHERE name='seq'").fetchone()
        return int(row[0])

    def oldest_age_s(self, now_s: float | None = None) -> float:
        with self._lock:
            row = self._conn().execute("SELECT MIN(created) FROM outbox").fetchone()
        if row[0] is None:
            return 0.0
        return max(0.0, (time.time() if now_s is None else now_s) - float(row[0]))

    def _update_alarm(self) -> None:
        high = self._depth >= self.alarm_rows
        if high and not self.alarm:
            log.warning("outbox: %d unsent results (alarm at %d, full at %d)",
                        self._depth, self.alarm_rows, self.max_rows)
        elif not high and self.alarm:
            log.info("outbox: back below alarm level (%d unsent results)", self._depth)
        self.alarm = high

    def status(self) -> dict[str, Any]:
        return {
            "depth": self._depth, "max_rows": self.max_rows, "alarm": self.alarm,
            "full": self._depth >= self.max_rows, "refused": self.refused,
        }
