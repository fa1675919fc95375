"""One database handle for the console: SQLite (the embedded default) or PostgreSQL by DSN.

A unit of work opens its own connection (`with db.transaction() as cur:`), so the web server's
worker threads never share one. The SQL is written once with `?` placeholders; for psycopg they
become `%s`. At start the bureau store's own versioned migrations are applied (ResultStore.open),
then the console's tables are created if missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from device.bureau.dbconn import begin_statement, connect_postgres, connect_sqlite, dialect_sql
from device.bureau.store import ResultStore
from device.errors import PublishError


class Database:
    """`Database(path=...)` for SQLite or `Database(dsn="postgresql://...")`; open() first."""

    def __init__(self, path: Path | None = None, dsn: str | None = None) -> None:
        if (path is None) == (dsn is None):
            raise PublishError("give the console either a SQLite path or a PostgreSQL DSN")
        self.path, self.dsn = path, dsn

    @property
    def postgres(self) -> bool:
        return self.dsn is not None

    def open(self) -> None:
        """Apply the store's migrations (the console's tables are migration 3 there)."""
        store = ResultStore(self.path, self.dsn)
        store.open()
        store.close()

    def _connect(self) -> Any:
        if self.dsn is not None:
            return connect_postgres(self.dsn)[0]
        assert self.path is not None
        return connect_sqlite(self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connect()
        begun = False
        try:
            conn.execute(begin_statement(self.postgres))
            begun = True
            yield Cursor(conn, postgres=self.postgres)
            conn.execute("COMMIT")
        except BaseException:
            if begun:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()


class Cursor:
    """execute/all/one over one connection, with the placeholder style of its database."""

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
        return self._conn.execute(dialect_sql(statement, self._postgres), tuple(args))
