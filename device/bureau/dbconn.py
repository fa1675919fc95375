"""The bureau's one way to open its database: SQLite (the embedded default) or PostgreSQL.

Both connections run in autocommit mode and take explicit BEGIN / COMMIT, so the same SQL
drives both; statements are written with `?` placeholders and `dialect_sql` turns them into
psycopg's `%s`. Used by the result store and by the console's units of work.
"""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path
from typing import Any

from device.errors import PublishError


def connect_sqlite(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """WAL with synchronous=FULL; `shared` lets one connection serve several threads."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None,
                                 check_same_thread=not shared)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def connect_postgres(dsn: str) -> tuple[Any, type[BaseException]]:
    """A connection (explicit BEGIN/COMMIT) and psycopg's DataError class."""
    try:  # optional dependency (extra `bureau`), only for a PostgreSQL store
        psycopg = importlib.import_module("psycopg")
    except ImportError as exc:
        raise PublishError("a PostgreSQL DSN needs `pip install 'faceterm[bureau]'`") from exc
    try:
        connection = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as exc:
        raise PublishError(f"cannot reach the PostgreSQL store: {type(exc).__name__}") from exc
    return connection, psycopg.DataError


def dialect_sql(statement: str, postgres: bool) -> str:
    """The statement in the placeholder style of its database."""
    return statement.replace("?", "%s") if postgres else statement


def begin_statement(postgres: bool) -> str:
    """SQLite takes the write lock at the start, so a unit of work never upgrades mid-way."""
    return "BEGIN" if postgres else "BEGIN IMMEDIATE"
