"""Where the bureau keeps verified results: SQLite by default, PostgreSQL given a DSN.

One table, de-duplicated by jti (PRIMARY KEY) and by (device_id, seq) (UNIQUE), so a result is
stored once however often it arrives and however many receivers share the stream. The SQL is
shared; only the placeholder style differs (`?` for sqlite3, `%s` for psycopg).
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.errors import PublishError

SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    jti TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    seq BIGINT NOT NULL,
    iat BIGINT NOT NULL,
    received_ns BIGINT NOT NULL,
    receiver TEXT NOT NULL,
    digest TEXT NOT NULL,
    record TEXT NOT NULL,
    personal TEXT,
    envelope TEXT NOT NULL,
    UNIQUE (device_id, seq)
)"""
INSERT = (
    "INSERT INTO results (jti, device_id, tenant, seq, iat, received_ns, receiver, digest,"
    " record, personal, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
)
FIND = "SELECT digest FROM results WHERE jti = ?"
COLUMNS = "jti, device_id, tenant, seq, iat, received_ns, receiver, record, personal"
LIST = f"SELECT {COLUMNS} FROM results ORDER BY received_ns, device_id, seq LIMIT ?"


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


class ResultStore:
    """Thread-safe; open() before use. `dsn` (postgresql://...) selects PostgreSQL."""

    def __init__(self, path: Path | None = None, dsn: str | None = None) -> None:
        if (path is None) == (dsn is None):
            raise PublishError("give the result store either a SQLite path or a PostgreSQL DSN")
        self.path, self.dsn = path, dsn
        self._db: Any = None
        self._lock = threading.Lock()

    def open(self) -> None:
        if self.dsn is not None:
            self._db = _connect_postgres(self.dsn)
        else:
            assert self.path is not None
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        self._run(SCHEMA, ())
        self._commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._commit()
                self._db.close()
                self._db = None

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dsn is not None else statement

    def _run(self, statement: str, args: Sequence[Any]) -> Any:
        if self._db is None:
            raise PublishError("result store is not open")
        return self._db.execute(self._sql(statement), tuple(args))

    def _begin(self) -> None:
        if self.dsn is None and not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        if self.dsn is not None:
            self._db.commit()
        elif self._db.in_transaction:
            self._db.execute("COMMIT")

    def commit(self) -> None:
        """Make every insert so far durable (group commit: one fsync for many results)."""
        with self._lock:
            if self._db is not None:
                self._commit()

    def rollback(self) -> None:
        with self._lock:
            if self._db is not None and (self.dsn is not None or self._db.in_transaction):
                self._db.rollback()

    def insert(self, row: StoredResult, digest: str, envelope: str, commit: bool = True) -> str:
        """Store a result: 'stored', or why not: 'duplicate', 'replayed_id', 'replayed_seq'.

        With commit=False the insert stays in an open transaction until commit().
        """
        personal = json.dumps(row.personal, ensure_ascii=False) if row.personal else None
        args = (row.jti, row.device_id, row.tenant, row.seq, row.iat, row.received_ns,
                row.receiver, digest, json.dumps(row.record, ensure_ascii=False), personal,
                envelope)
        with self._lock:
            self._begin()
            inserted = self._run(INSERT, args).rowcount == 1
            found = None if inserted else self._run(FIND, (row.jti,)).fetchone()
            if commit:
                self._commit()
        if inserted:
            return "stored"
        if found is None:
            return "replayed_seq"
        return "duplicate" if found[0] == digest else "replayed_id"

    def rows(self, limit: int = 1_000_000) -> Iterator[StoredResult]:
        with self._lock:
            fetched = self._run(LIST, (limit,)).fetchall()
            self._commit()
        for jti, dev, tenant, seq, iat, rns, receiver, record, personal in fetched:
            yield StoredResult(jti, dev, tenant, int(seq), int(iat), int(rns), receiver,
                               json.loads(record), json.loads(personal) if personal else None)

    def count(self) -> int:
        with self._lock:
            value = self._run("SELECT COUNT(*) FROM results", ()).fetchone()[0]
            self._commit()
        return int(value)


def _connect_postgres(dsn: str) -> Any:
    try:  # optional dependency, only for a PostgreSQL store
        psycopg = importlib.import_module("psycopg")
    except ImportError as exc:
        raise PublishError("a PostgreSQL DSN needs `pip install psycopg[binary]`") from exc
    return psycopg.connect(dsn)
