"""Where the bureau keeps verified results: SQLite by default, PostgreSQL given a DSN.

One code path (SQLAlchemy Core over sqlite3 or psycopg 3); the tables live in schema.py and
versioned migrations (MIGRATIONS) are applied at open(), under a lock so several receivers may
start at once. A result is stored once by jti and once by (device_id, epoch, seq), however often
it arrives and however many receivers share the stream. Each insert runs in a SAVEPOINT: a row
the database refuses is rolled back alone and goes to the dead-letter table.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from device.bureau import schema
from device.errors import PublishError

NS = 1_000_000_000


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
class DeadLetter:
    digest: str
    received_ns: int
    receiver: str
    topic: str
    device_id: str | None
    reason: str
    envelope: str


def envelope_text(payload: bytes) -> str:
    """The payload as stored: printable ASCII as is, anything else as 'base64:...'."""
    if payload.isascii() and all(32 <= b < 127 for b in payload):
        return payload.decode("ascii")
    return "base64:" + base64.b64encode(payload).decode("ascii")


def _migrate_1(conn: Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True)


def _migrate_2(conn: Connection) -> None:
    schema.RECEIVED_INDEX.create(conn, checkfirst=True)
    schema.AUDIT_INDEX.create(conn, checkfirst=True)


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _migrate_1), (2, _migrate_2),
)


def make_engine(path: Path | None, dsn: str | None) -> Engine:
    if dsn is not None:
        url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            return create_engine(url, pool_pre_ping=True)
        except ImportError as exc:
            raise PublishError("a PostgreSQL DSN needs `pip install faceterm[bureau]`") from exc
    engine = create_engine(f"sqlite+pysqlite:///{path}",
                           connect_args={"timeout": 30, "isolation_level": None,
                                         "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        dbapi.execute("PRAGMA journal_mode=WAL")
        dbapi.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class ResultStore:
    """Thread-safe; open() before use. `dsn` (postgresql://...) selects PostgreSQL."""

    def __init__(self, path: Path | None = None, dsn: str | None = None) -> None:
        if (path is None) == (dsn is None):
            raise PublishError("give the result store either a SQLite path or a PostgreSQL DSN")
        self.path, self.dsn = path, dsn
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def postgres(self) -> bool:
        return self.dsn is not None

    def open(self) -> None:
        self._engine = make_engine(self.path, self.dsn)
        self._conn = self._engine.connect()
        self._apply_migrations()

    def _apply_migrations(self) -> None:
        conn = self._connection()
        with conn.begin():
            if self.postgres:  # one migrating receiver at a time
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7175301)")
            schema.schema_version.create(conn, checkfirst=True)
            done = set(conn.scalars(select(schema.schema_version.c.version)))
            for version, step in MIGRATIONS:
                if version not in done:
                    step(conn)
                    conn.execute(insert(schema.schema_version).values(
                        version=version, applied_ns=time.time_ns()))

    def schema_versions(self) -> list[int]:
        with self._lock:
            conn = self._connection()
            versions = list(conn.scalars(select(schema.schema_version.c.version)))
            self._end(conn)
        return sorted(versions)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                if self._conn.in_transaction():
                    self._conn.commit()
                self._conn.close()
                self._conn = None
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _connection(self) -> Connection:
        if self._conn is None:
            raise PublishError("result store is not open")
        return self._conn

    def _end(self, conn: Connection) -> None:
        if conn.in_transaction():
            conn.commit()

    def commit(self) -> None:
        """Make every insert so far durable (group commit: one fsync for many results)."""
        with self._lock:
            if self._conn is not None:
                self._end(self._conn)

    def rollback(self) -> None:
        with self._lock:
            if self._conn is not None and self._conn.in_transaction():
                self._conn.rollback()

    def _upsert(self, table: Any) -> Any:
        return pg_insert(table) if self.postgres else sqlite_insert(table)

    def insert(self, row: StoredResult, digest: str, envelope: str, commit: bool = True) -> str:
        """Store a result: 'stored', or why not: 'duplicate', 'replayed_id', 'replayed_seq'.

        With commit=False the insert stays in an open transaction until commit(). A row the
        database refuses raises SQLAlchemyError with only this row rolled back.
        """
        values = {
            "jti": row.jti, "device_id": row.device_id, "tenant": row.tenant, "epoch": row.epoch,
            "seq": row.seq, "iat": row.iat, "received_ns": row.received_ns,
            "receiver": row.receiver, "digest": digest, "envelope": envelope,
            "record": json.dumps(row.record, ensure_ascii=False),
            "personal": json.dumps(row.personal, ensure_ascii=False) if row.personal else None,
            "clock_unsynced": row.clock_unsynced,
        }
        table = schema.results
        with self._lock:
            conn = self._connection()
            with conn.begin_nested():
                inserted = conn.execute(self._upsert(table).values(**values)
                                        .on_conflict_do_nothing()
                                        .returning(table.c.jti)).first() is not None
                found = None if inserted else conn.execute(
                    select(table.c.digest).where(table.c.jti == row.jti)).first()
            if commit:
                self._end(conn)
        if inserted:
            return "stored"
        if found is None:
            return "replayed_seq"
        return "duplicate" if found[0] == digest else "replayed_id"

    def dead_letter(self, letter: DeadLetter, commit: bool = True) -> bool:
        """Keep a refused or unstorable message (once per digest); True if it was new."""
        table = schema.dead_letter
        values = {"digest": letter.digest, "received_ns": letter.received_ns,
                  "receiver": letter.receiver, "topic": letter.topic,
                  "device_id": letter.device_id, "reason": letter.reason,
                  "envelope": letter.envelope}
        with self._lock:
            conn = self._connection()
            with conn.begin_nested():
                new = conn.execute(self._upsert(table).values(**values).on_conflict_do_nothing()
                                   .returning(table.c.id)).first() is not None
            if commit:
                self._end(conn)
        return new

    def sequence_state(self, device_id: str, epoch: str) -> tuple[bool, bool, int | None]:
        """(device seen before, epoch seen before, highest seq stored in that epoch)."""
        table = schema.results
        with self._lock:
            conn = self._connection()
            seen = conn.execute(select(table.c.jti).where(
                table.c.device_id == device_id).limit(1)).first() is not None
            top = conn.execute(select(func.max(table.c.seq)).where(
                table.c.device_id == device_id, table.c.epoch == epoch)).scalar()
        return seen, top is not None, None if top is None else int(top)

    def rows(self, limit: int = 1_000_000) -> Iterator[StoredResult]:
        table = schema.results
        query = select(table).order_by(table.c.received_ns, table.c.device_id,
                                       table.c.seq).limit(limit)
        with self._lock:
            conn = self._connection()
            fetched = conn.execute(query).mappings().all()
            self._end(conn)
        for r in fetched:
            yield StoredResult(r["jti"], r["device_id"], r["tenant"], int(r["seq"]),
                               int(r["iat"]), int(r["received_ns"]), r["receiver"],
                               json.loads(r["record"]),
                               json.loads(r["personal"]) if r["personal"] else None,
                               r["epoch"], bool(r["clock_unsynced"]))

    def dead_letters(self, limit: int = 10_000) -> list[DeadLetter]:
        table = schema.dead_letter
        with self._lock:
            conn = self._connection()
            fetched = conn.execute(select(table).order_by(table.c.id).limit(limit)).mappings()
            letters = [DeadLetter(r["digest"], int(r["received_ns"]), r["receiver"], r["topic"],
                                  r["device_id"], r["reason"], r["envelope"]) for r in fetched]
            self._end(conn)
        return letters

    def count(self) -> int:
        with self._lock:
            conn = self._connection()
            value = conn.execute(select(func.count()).select_from(schema.results)).scalar()
            self._end(conn)
        return int(value or 0)

    def purge(self, older_than_s: float, now_ns: int | None = None) -> dict[str, int]:
        """Retention: delete results, dead letters and audit rows older than `older_than_s`."""
        cutoff = (time.time_ns() if now_ns is None else now_ns) - int(older_than_s * NS)
        targets = ((schema.results, schema.results.c.received_ns),
                   (schema.dead_letter, schema.dead_letter.c.received_ns),
                   (schema.audit, schema.audit.c.at_ns))
        removed: dict[str, int] = {}
        with self._lock:
            conn = self._connection()
            try:
                for table, column in targets:
                    removed[table.name] = conn.execute(
                        table.delete().where(column < cutoff)).rowcount
                self._end(conn)
            except SQLAlchemyError:
                conn.rollback()
                raise
        return removed
