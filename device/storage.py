"""Opening SQLite state files that may be damaged, and naming storage errors for what they are.

    opened = open_sqlite_or_quarantine(path, DamagePolicy.FRESH)   # outbox, fleet jobs
    opened = open_sqlite_or_quarantine(path, DamagePolicy.HOLD)    # templates: never replaced
    with immediate(opened.db, "outbox"):                     # BEGIN IMMEDIATE .. COMMIT
        ...

A file that is not a database, or fails `PRAGMA quick_check` (garbage, half-truncated), is
renamed aside with its `-wal`/`-shm` siblings to `NAME.corrupt-<UTC time>` and logged at ERROR.
DamagePolicy FRESH then starts an empty database. DamagePolicy HOLD writes a `NAME.held` marker
and raises StorageHeld: the store stays unavailable, across restarts, until an operator restores
a backup (or accepts an empty store) and deletes the marker (`release_hold`). A full disk
(SQLITE_FULL, ENOSPC) raises DiskFull, never "cannot rollback - no transaction is active".
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from device.errors import FacetermError

log = logging.getLogger(__name__)

SQLITE_FULL = 13
SIBLINGS = ("-wal", "-shm", "-journal")
HELD_SUFFIX = ".held"


class StorageError(FacetermError):
    """A state database could not be opened, read or written."""


class DiskFull(StorageError):
    """The disk (or the database's size limit) is full: nothing more can be stored."""


class StorageHeld(StorageError):
    """A damaged database was renamed aside and waits for an operator (policy HOLD)."""


class DamagePolicy(Enum):
    FRESH = "fresh"  # rename aside, start an empty database
    HOLD = "hold"  # rename aside, refuse to open until an operator acts


@dataclass(frozen=True, slots=True)
class Opened:
    db: sqlite3.Connection
    renamed_to: Path | None  # where a damaged file went (None: the file was sound)
    problem: str | None


def held_marker(path: Path) -> Path:
    return path.with_name(path.name + HELD_SUFFIX)


def damage(path: Path) -> str | None:
    """Why the file at path is not a usable SQLite database (None if it is, or is absent)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc):
            raise DiskFull(f"{path}: disk full") from exc
        return str(exc)
    verdict = "; ".join(str(row[0]) for row in rows[:3])
    return None if verdict == "ok" else verdict


def quarantine(path: Path, now: dt.datetime | None = None) -> Path:
    """Rename path (and its journal siblings) aside; returns the new name of the main file."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    os.replace(path, target)
    for suffix in SIBLINGS:
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            os.replace(sibling, target.with_name(target.name + suffix))
    fsync_dir(path.parent)
    return target


def open_sqlite_or_quarantine(
    path: Path, policy: DamagePolicy, timeout_s: float = 5.0, mode: int = 0o600
) -> Opened:
    """A WAL, synchronous=FULL, autocommit connection to path, after the damage check."""
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = held_marker(path)
    if marker.exists():
        raise StorageHeld(f"{path}: {marker.read_text(encoding='utf-8').strip()}")
    problem = damage(path)
    renamed = None
    if problem is not None:
        renamed = quarantine(path)
        log.error("%s is damaged (%s): renamed aside to %s", path, problem, renamed.name)
        if policy is DamagePolicy.HOLD:
            _hold(marker, path, renamed, problem)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, mode))
    try:
        return Opened(_connect(path, timeout_s), renamed, problem)
    except sqlite3.Error as exc:
        raise classify(exc, str(path)) from exc


def release_hold(path: Path) -> bool:
    """The operator's act: lift a HOLD (True if there was one). Restore a backup first, or the
    store starts empty."""
    marker = held_marker(path)
    if not marker.exists():
        return False
    marker.unlink()
    log.warning("%s: hold released by the operator", path)
    return True


@contextmanager
def immediate(db: sqlite3.Connection, what: str) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE .. COMMIT; rolls back only a transaction SQLite has not already ended,
    and turns sqlite3/OS errors into StorageError (DiskFull when the disk is full)."""
    try:
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")
    except BaseException as exc:
        _rollback(db, what)
        if isinstance(exc, sqlite3.Error | OSError):
            raise classify(exc, what) from exc
        raise


def classify(exc: BaseException, what: str) -> StorageError:
    if is_disk_full(exc):
        return DiskFull(f"{what}: disk full ({exc})")
    return StorageError(f"{what}: {exc}")


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == SQLITE_FULL:
        return True
    return "database or disk is full" in str(exc)


def _rollback(db: sqlite3.Connection, what: str) -> None:
    if not db.in_transaction:
        return
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        log.warning("%s: rollback failed: %s", what, exc)


def _connect(path: Path, timeout_s: float) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        db.close()
        raise StorageError(f"{path}: cannot switch to WAL mode")
    db.execute("PRAGMA synchronous=FULL")
    return db


def _hold(marker: Path, path: Path, renamed: Path, problem: str) -> None:
    text = (f"damaged ({problem}); renamed aside to {renamed.name}; restore a backup to "
            f"{path.name} or accept an empty store, then delete {marker.name}\n")
    marker.write_text(text, encoding="utf-8")
    fsync_dir(path.parent)
    raise StorageHeld(f"{path}: {text.strip()}")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
