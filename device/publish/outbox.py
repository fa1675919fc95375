"""The durable outbox: every signed result is committed here before submit() returns.

SQLite in WAL mode with synchronous=FULL; one row per envelope (seq, jti, topic, payload,
created). The seq comes from the sequence file beside the device key (device/publish/sequence.py)
when one is given, else from the counter kept here, and is advanced in the same IMMEDIATE
transaction as the insert, so seq is monotonic across restarts, kill -9 and the loss of this
file. Rows leave only when the broker acknowledged them (PUBACK), or move to the `quarantine`
table when the broker refused them for good (they stay there for an operator, with the reason).
Bounded: an alarm above alarm_ratio * max_rows, and new results are refused when full; unsent
rows are never evicted. A damaged file is renamed aside and a fresh one started
(device/storage.py, policy FRESH); a failed write (disk full) makes `problem()` say so until a
later write succeeds, and the kiosk starts no session meanwhile.
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
from device.storage import DamagePolicy, StorageError, immediate, open_sqlite_or_quarantine

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, jti TEXT NOT NULL UNIQUE,"
    " topic TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO counters (name, value) VALUES ('seq', 0)",
    "CREATE TABLE IF NOT EXISTS quarantine (seq INTEGER PRIMARY KEY, jti TEXT NOT NULL,"
    " topic TEXT NOT NULL, payload TEXT NOT NULL, created REAL NOT NULL,"
    " code INTEGER NOT NULL, reason TEXT NOT NULL, quarantined REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS probe (x BLOB)",
)
PROBE_BYTES = 8192  # about one signed result with its sealed personal data
SeqSource = Callable[[int], int]  # outbox counter -> next seq (durably reserved)


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
        self, path: Path, max_rows: int, alarm_ratio: float, busy_timeout_s: float = 5.0,
        next_seq: SeqSource | None = None,
    ) -> None:
        self.path = path
        self._next_seq = next_seq or (lambda last: last + 1)
        self.max_rows = max_rows
        self.alarm_rows = max(1, int(max_rows * alarm_ratio))
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._depth = 0
        self.alarm = False
        self.refused = 0
        self.quarantined = 0
        self.renamed_to: str | None = None
        self.error: str | None = None  # the last failed write, until a write succeeds

    def open(self) -> None:
        """Open (or create) the database; a damaged file is renamed aside first."""
        opened = open_sqlite_or_quarantine(self.path, DamagePolicy.FRESH, self._busy_timeout_s)
        db = opened.db
        if opened.renamed_to is not None:
            self.renamed_to = opened.renamed_to.name
        for statement in SCHEMA:
            db.execute(statement)
        self._db = db
        self._depth = int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        self.quarantined = int(db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
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
            try:
                with immediate(db, "outbox"):
                    last = int(db.execute(
                        "SELECT value FROM counters WHERE name='seq'").fetchone()[0])
                    envelope = build(self._next_seq(last))
                    db.execute(
                        "INSERT INTO outbox (seq, jti, topic, payload, created)"
                        " VALUES (?,?,?,?,?)",
                        (envelope.seq, envelope.jti, topic, envelope.token, time.time()),
                    )
                    db.execute("UPDATE counters SET value=? WHERE name='seq'", (envelope.seq,))
            except StorageError as exc:
                self._failed(exc)
                raise
            self.error = None
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
            with immediate(db, "outbox"):
                before = db.total_changes
                db.executemany("DELETE FROM outbox WHERE seq = ?", batch)
                removed = db.total_changes - before
            self._depth -= removed
            self._update_alarm()
        return removed

    def quarantine(self, seq: int, code: int, reason: str) -> bool:
        """Move a row the broker refused for good to the quarantine table (one transaction)."""
        with self._lock:
            db = self._conn()
            with immediate(db, "outbox"):
                moved = db.execute(
                    "INSERT INTO quarantine SELECT seq, jti, topic, payload, created, ?, ?, ?"
                    " FROM outbox WHERE seq = ?", (code, reason, time.time(), seq),
                ).rowcount
                db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if moved:
                self._depth -= 1
                self.quarantined += 1
                self._update_alarm()
        if moved:
            log.error("outbox: result seq %d quarantined: the broker refused it (%s, %d)",
                      seq, reason, code)
        return bool(moved)

    def quarantine_rows(self) -> list[tuple[int, str, int, str]]:
        """(seq, jti, code, reason) of every quarantined result, oldest first."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT seq, jti, code, reason FROM quarantine ORDER BY seq").fetchall()
        return [(int(a), str(b), int(c), str(d)) for a, b, c, d in rows]

    def problem(self) -> str | None:
        """Why a new result could not be stored now (None: it could)."""
        if self._db is None:
            return "outbox is not open"
        if self._depth >= self.max_rows:
            return f"outbox full ({self._depth} of {self.max_rows} unsent results)"
        if self.error is not None:
            self._probe()
        return self.error

    def _probe(self) -> None:
        """A write the size of a result, undone in the same transaction: clears `error` if the
        disk has room again."""
        with self._lock:
            try:
                with immediate(self._conn(), "outbox"):
                    self._conn().execute("INSERT INTO probe VALUES (zeroblob(?))", (PROBE_BYTES,))
                    self._conn().execute("DELETE FROM probe")
            except StorageError as exc:
                self.error = str(exc)
                return
        log.info("outbox: writable again")
        self.error = None

    def _failed(self, exc: StorageError) -> None:
        if self.error is None:
            log.error("outbox: cannot store results: %s", exc)
        self.error = str(exc)

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
            "quarantined": self.quarantined, "error": self.error, "renamed_to": self.renamed_to,
        }
