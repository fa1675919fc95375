"""Where the bureau keeps verified results: SQLite by default, PostgreSQL given a DSN.

One code path for both: the SQL is shared, only the placeholder style (`?` / `%s`) and one
column type (device.bureau.schema) differ. Results are de-duplicated by jti (PRIMARY KEY) and
by (device_id, epoch, seq) (UNIQUE), so a result is stored once however often it arrives and
however many receivers share the stream. Per (device, epoch) the highest seq seen is kept, so
the store tells a new epoch (the device's counter was reset: logged, accepted), a gap (logged,
accepted) and a replay (a known seq under a new jti: refused) apart. Messages that cannot be
verified or stored go to `dead_letters`, never blocking the ones behind them. Each insert runs
in its own savepoint inside the receiver's group commit, so one bad row undoes only itself.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.bureau import schema
from device.bureau.dbconn import begin_statement, connect_postgres, connect_sqlite, dialect_sql
from device.errors import PublishError

COLUMNS = "jti, device_id, tenant, epoch, seq, iat, clock_unsynced, received_ns, receiver," \
    " record, personal"
INSERT = (
    f"INSERT INTO results ({COLUMNS}, digest, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT DO NOTHING"
)
FIND = "SELECT digest FROM results WHERE jti = ?"
LIST = f"SELECT {COLUMNS} FROM results ORDER BY received_ns, device_id, seq LIMIT ?"
DEAD_LETTER = ("INSERT INTO dead_letters (received_ns, receiver, topic, reason, device_id,"
               " payload) VALUES (?,?,?,?,?,?)")
MAX_DEAD_PAYLOAD = 65_536
RETENTION = (("results", "received_ns"), ("dead_letters", "received_ns"), ("audit", "at_ns"),
             ("telemetry_history", "received_ns"))


class Unstorable(PublishError):
    """The database cannot hold this row (a value out of its range or encoding); the row was
    undone alone and the caller dead-letters the message. Not raised for a database that is
    down, which must make the receiver retry instead."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    jti: str
    device_id: str
    tenant: str
    seq: int
    iat: int
    received_ns: int
    receiver: str
    record: dict[str, Any]
    personal: dict[str, str] | None
    epoch: str = ""
    clock_unsynced: bool = False


@dataclass(frozen=True, slots=True)
class Insert:
    """What insert() did: outcome 'stored', 'duplicate', 'replayed_id' or 'replayed_seq';
    sequence: None, 'first', 'reset' (a new epoch of a known device), 'gap' or 'out_of_order'."""

    outcome: str
    sequence: str | None = None
    missing: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    received_ns: int
    receiver: str
    topic: str
    reason: str
    device_id: str | None
    payload: str = field(repr=False)


class ResultStore:
    """Thread-safe; open() before use. `dsn` (postgresql://...) selects PostgreSQL."""

    def __init__(self, path: Path | None = None, dsn: str | None = None) -> None:
        if (path is None) == (dsn is None):
            raise PublishError("give the result store either a SQLite path or a PostgreSQL DSN")
        self.path, self.dsn = path, dsn
        self.dialect = "postgres" if dsn is not None else "sqlite"
        self._db: Any = None
        self._lock = threading.RLock()
        self._open_tx = False
        self._data_errors: tuple[type[BaseException], ...] = (
            OverflowError, ValueError, TypeError, sqlite3.DataError)

    # ------------------------------------------------------------------ connection
    def open(self) -> None:
        if self.dsn is not None:
            self._db, data_error = connect_postgres(self.dsn)
            self._data_errors = (*self._data_errors, data_error)
        else:
            assert self.path is not None
            self._db = connect_sqlite(self.path, shared=True)
        self.migrate()

    def migrate(self) -> int:
        """Apply pending migrations; return the schema version now in force."""
        with self._lock:
            self._begin()
            if self.dialect == "postgres":
                self._run("SELECT pg_advisory_xact_lock(7106105)", ())
            self._run(schema.VERSION_TABLE, ())
            row = self._run("SELECT MAX(version) FROM schema_version", ()).fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            for version in range(current + 1, schema.LATEST + 1):
                for statement in schema.statements(version, self.dialect):
                    self._run(statement, ())
                self._run("DELETE FROM schema_version", ())
                self._run("INSERT INTO schema_version (version) VALUES (?)", (version,))
            self._commit()
        return schema.LATEST

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._commit()
                self._db.close()
                self._db = None

    def _sql(self, statement: str) -> str:
        return dialect_sql(statement, self.dsn is not None)

    def _run(self, statement: str, args: Sequence[Any]) -> Any:
        if self._db is None:
            raise PublishError("result store is not open")
        return self._db.execute(self._sql(statement), tuple(args))

    def _begin(self) -> None:
        if not self._open_tx:
            self._run(begin_statement(self.dialect == "postgres"), ())
            self._open_tx = True

    def _commit(self) -> None:
        if self._open_tx:
            self._run("COMMIT", ())
            self._open_tx = False
        elif self.dialect == "postgres":
            self._db.commit()

    def commit(self) -> None:
        """Make every insert so far durable (group commit: one fsync for many results)."""
        with self._lock:
            if self._db is not None:
                self._commit()

    def rollback(self) -> None:
        with self._lock:
            if self._db is not None and self._open_tx:
                self._run("ROLLBACK", ())
                self._open_tx = False

    # ------------------------------------------------------------------ writing
    def insert(self, row: StoredResult, digest: str, envelope: str,
               commit: bool = True) -> Insert:
        """Store a result (see Insert). Raises Unstorable for a row the database cannot hold
        (the caller dead-letters it); anything else means the database is down (retry)."""
        personal = json.dumps(row.personal, ensure_ascii=False) if row.personal else None
        args = (row.jti, row.device_id, row.tenant, row.epoch, row.seq, row.iat,
                int(row.clock_unsynced), row.received_ns, row.receiver,
                json.dumps(row.record, ensure_ascii=False), personal, digest, envelope)
        with self._lock:
            self._begin()
            self._run("SAVEPOINT one_result", ())
            try:
                result = self._insert(row, args)
            except BaseException as exc:
                self._run("ROLLBACK TO SAVEPOINT one_result", ())
                if isinstance(exc, self._data_errors):
                    raise Unstorable(type(exc).__name__) from exc
                raise
            self._run("RELEASE SAVEPOINT one_result", ())
            if commit:
                self._commit()
        return result

    def _insert(self, row: StoredResult, args: Sequence[Any]) -> Insert:
        if self._run(INSERT, args).rowcount != 1:
            found = self._run(FIND, (row.jti,)).fetchone()
            if found is None:
                return Insert("replayed_seq")
            return Insert("duplicate" if found[0] == args[11] else "replayed_id")
        return Insert("stored", *self._sequence(row))

    def _sequence(self, row: StoredResult) -> tuple[str | None, int]:
        known = self._run("SELECT max_seq FROM sequences WHERE device_id = ? AND epoch = ?",
                          (row.device_id, row.epoch)).fetchone()
        if known is None:
            others = self._run("SELECT COUNT(*) FROM sequences WHERE device_id = ?",
                               (row.device_id,)).fetchone()[0]
            self._run("INSERT INTO sequences (device_id, epoch, max_seq, first_ns)"
                      " VALUES (?,?,?,?)", (row.device_id, row.epoch, row.seq, row.received_ns))
            return ("reset" if int(others) else "first"), 0
        top = int(known[0])
        if row.seq <= top:
            return "out_of_order", 0
        self._run("UPDATE sequences SET max_seq = ? WHERE device_id = ? AND epoch = ?",
                  (row.seq, row.device_id, row.epoch))
        return ("gap", row.seq - top - 1) if row.seq > top + 1 else (None, 0)

    def dead_letter(self, received_ns: int, receiver: str, topic: str, reason: str,
                    device_id: str | None, payload: bytes, commit: bool = True) -> None:
        """Keep a message that could not be verified or stored (text made storable)."""
        text = payload[:MAX_DEAD_PAYLOAD].decode("ascii", "backslashreplace")
        text = text.replace("\x00", "\\x00")
        args = (received_ns, receiver, _storable(topic), reason, _storable(device_id), text)
        with self._lock:
            self._begin()
            self._run(DEAD_LETTER, args)
            if commit:
                self._commit()

    def purge(self, before_ns: int) -> dict[str, int]:
        """Retention: delete results, dead letters, audit rows and telemetry history older
        than `before_ns` (docs/privacy.md)."""
        deleted = {}
        with self._lock:
            self._begin()
            for table, column in RETENTION:
                deleted[table] = int(self._run(f"DELETE FROM {table} WHERE {column} < ?",
                                               (before_ns,)).rowcount)
            self._commit()
        return deleted

    # ------------------------------------------------------------------ reading
    def rows(self, limit: int = 1_000_000) -> Iterator[StoredResult]:
        with self._lock:
            fetched = self._run(LIST, (limit,)).fetchall()
            self._commit()
        for jti, dev, tenant, epoch, seq, iat, unsynced, rns, receiver, record, pii in fetched:
            yield StoredResult(jti, dev, tenant, int(seq), int(iat), int(rns), receiver,
                               json.loads(record), json.loads(pii) if pii else None,
                               epoch, bool(unsynced))

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        with self._lock:
            fetched = self._run("SELECT id, received_ns, receiver, topic, reason, device_id,"
                                " payload FROM dead_letters ORDER BY id LIMIT ?",
                                (limit,)).fetchall()
            self._commit()
        return [DeadLetter(int(i), int(ns), r, t, why, d, p) for i, ns, r, t, why, d, p in fetched]

    def count(self, table: str = "results") -> int:
        if table not in ("results", "dead_letters"):
            raise PublishError(f"unknown table {table!r}")
        with self._lock:
            value = self._run(f"SELECT COUNT(*) FROM {table}", ()).fetchone()[0]
            self._commit()
        return int(value)


def _storable(text: str | None) -> str | None:
    if text is None:
        return None
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean[:1024]

