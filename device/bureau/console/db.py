"""One database handle for the console: SQLite (the embedded default) or PostgreSQL by DSN,
through one SQLAlchemy engine.

A unit of work is one transaction (`with db.transaction() as cur:`) on a pooled connection, so
the web server's worker threads never share one. The console's SQL is plain and written once with
`?` placeholders; for psycopg they become `%s`. Tables: the bureau store's (device/bureau/schema.py)
applied by the store's own versioned migrations, and the console's own (tables.py), created if
missing at start. The engine is the store's (store.make_engine), so both speak one dialect setup.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from device.bureau.console import tables
from device.bureau.store import ResultStore, make_engine
from device.errors import PublishError


class Database:
    """`Database(path=...)` for SQLite or `Database(dsn="postgresql://...")`; open() first."""

    def __init__(self, path: Path | None = None, dsn: str | None = None) -> None:
        if (path is None) == (dsn is None):
            raise PublishError("give the console either a SQLite path or a PostgreSQL DSN")
        self.path, self.dsn = path, dsn
        self._engine: Engine | None = None

    @property
    def postgres(self) -> bool:
        return self.dsn is not None

    def open(self) -> None:
        """Connect and create the tables the console reads and writes (idempotent)."""
        store = ResultStore(self.path, self.dsn)  # applies the store's migrations
        store.open()
        store.close()
        if self._engine is None:
            self._engine = make_engine(self.path, self.dsn)
        with self._engine.begin() as conn:
            tables.metadata.create_all(conn, checkfirst=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        if self._engine is None:
            raise PublishError("the console database is not open")
        with self._engine.begin() as conn:
            yield Cursor(conn, self.postgres)


class Cursor:
    """execute/all/one over one transaction, with the placeholder style of its database."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn, self._postgres = conn, postgres

    def execute(self, statement: str, args: Sequence[Any] = ()) -> int:
        return int(self._run(statement, args).rowcount)

    def all(self, statement: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._run(statement, args).fetchall()]

    def one(self, statement: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self._run(statement, args).fetchone()
        return None if row is None else tuple(row)

    def json_text(self, column: str, key: str) -> str:
        """SQL for a top-level text field of a JSON column, in this database's dialect."""
        if not key.isidentifier() or not column.isidentifier():
            raise PublishError(f"not a plain name: {column}.{key}")
        if self._postgres:
            return f"({column}::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def _run(self, statement: str, args: Sequence[Any]) -> Any:
        sql = statement.replace("?", "%s") if self._postgres else statement
        return self._conn.exec_driver_sql(sql, tuple(args))
