"""Reference templates: SQLite tables of face embeddings encrypted at rest (AES-256-GCM).

Rows are keyed by the subject, the HMAC-SHA256 of the ID number under the device salt, so the
file holds no ID number. Each embedding is sealed with a fresh 96-bit nonce and an AAD binding
it to its row (schema, subject and model), so a ciphertext moved to another row or model does
not decrypt. Nothing here returns an embedding except `get`, for matching in memory; there is no
export. `put_sealed` stores a row whose ciphertext was made elsewhere with the same key and AAD
(the fleet channel).

With `[session] reference_adaptation` on, a second table holds the adapted reference of a
subject (device/match/adapt.py): sealed the same way under its own AAD prefix (an enrolment's
ciphertext does not decrypt as an adapted one, nor the reverse), never replacing the enrolment,
which stays in `templates`. A new enrolment of the subject or a revocation deletes it.

A damaged database is never silently replaced (device/storage.py, policy HOLD): it is renamed
aside, a `.held` marker is written, and the store stays unavailable (`problem()` says why, the
kiosk starts no session and shows "out of service") until an operator restores a backup or
accepts an empty store and deletes the marker (docs/runbook.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from device.errors import FacetermError
from device.match.keys import Secrets, subject_hash
from device.storage import DamagePolicy, StorageHeld, open_sqlite_or_quarantine
from device.vision.types import Vector

log = logging.getLogger(__name__)

EMBED_SIZE = 128
NONCE_BYTES = 12
AAD_PREFIX = b"faceterm.template/1"
ADAPTED_AAD_PREFIX = b"faceterm.template.adapted/1"
SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS templates (
    subject TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    source TEXT NOT NULL,
    images INTEGER NOT NULL,
    created_utc TEXT NOT NULL
)
"""
ADAPTED_SQL = """
CREATE TABLE IF NOT EXISTS adapted (
    subject TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    updates INTEGER NOT NULL,
    updated_utc TEXT NOT NULL
)
"""


class TemplateError(FacetermError):
    """A template could not be stored or read back (wrong key, tampered row, bad vector)."""


@dataclass(frozen=True, slots=True, repr=False)
class Reference:
    """A decrypted reference embedding, for matching in memory only. `embedding` is what the
    session matches against: the adapted reference when there is one, else the enrolment;
    `original` is the enrolment when it differs (None: `embedding` is the enrolment);
    `updates` how many confident passes the adapted reference absorbed."""

    subject: str
    model: str
    embedding: Vector
    source: str
    images: int
    original: Vector | None = None
    updates: int = 0

    def enrolment(self) -> Vector:
        return self.embedding if self.original is None else self.original

    def __repr__(self) -> str:
        return f"Reference(subject={self.subject[:12]}..., model={self.model!r})"


def aad(subject: str, model: str, prefix: bytes = AAD_PREFIX) -> bytes:
    """Additional data binding a ciphertext to its row, model and table."""
    return b"|".join([prefix, subject.encode("ascii"), model.encode("utf-8")])


def seal(key: bytes, subject: str, model: str, embedding: Vector,
         prefix: bytes = AAD_PREFIX) -> tuple[bytes, bytes]:  # fmt: skip
    """(nonce, ciphertext) of one embedding (float32 little-endian) under key."""
    vector = np.asarray(embedding, dtype="<f4").reshape(-1)
    if vector.shape != (EMBED_SIZE,) or not np.all(np.isfinite(vector)):
        raise TemplateError(f"a template must be {EMBED_SIZE} finite floats")
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, vector.tobytes(), aad(subject, model, prefix))


def unseal(key: bytes, subject: str, model: str, nonce: bytes, sealed: bytes,
           prefix: bytes = AAD_PREFIX) -> Vector:  # fmt: skip
    try:
        clear = AESGCM(key).decrypt(nonce, sealed, aad(subject, model, prefix))
    except InvalidTag as exc:
        raise TemplateError(f"template {subject[:12]}... does not decrypt") from exc
    return np.frombuffer(clear, dtype="<f4").astype(np.float32)


class TemplateStore:
    """The templates database; open() creates it (mode 0600) on first use."""

    def __init__(self, path: Path, secrets: Secrets) -> None:
        self._path = path
        self._secrets = secrets
        self.held: str | None = None

    def open(self) -> None:
        """Create the database (0600) or check the existing one; a damaged one is held."""
        try:
            opened = open_sqlite_or_quarantine(self._path, DamagePolicy.HOLD)
        except StorageHeld as exc:
            self.held = str(exc)
            log.error("templates: unavailable until an operator acts: %s", exc)
            return
        with closing(opened.db) as db:
            db.execute(SCHEMA_SQL)
            db.execute(ADAPTED_SQL)
        self.held = None

    def problem(self) -> str | None:
        """Why no verification can run against this store (None: it can)."""
        return None if self.held is None else f"templates database held: {self.held}"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.held is not None:
            raise TemplateError(self.problem() or "templates database held")
        try:
            db = sqlite3.connect(self._path, timeout=5.0)
        except sqlite3.Error as exc:
            raise TemplateError(f"templates database: {exc}") from exc
        with closing(db):
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            with db:
                yield db

    def subject(self, id_number: str) -> str:
        return subject_hash(self._secrets.salt, id_number)

    def put(
        self, id_number: str, embedding: Vector, model: str, source: str, images: int = 1
    ) -> str:
        """Store (or replace) the person's reference; returns the subject hash."""
        subject = self.subject(id_number)
        nonce, sealed = seal(self._secrets.key, subject, model, embedding)
        self.put_sealed(subject, model, nonce, sealed, source, images)
        return subject

    def put_sealed(
        self, subject: str, model: str, nonce: bytes, sealed: bytes, source: str, images: int = 1
    ) -> None:
        """Store a row sealed elsewhere under this device's key; refused unless it decrypts."""
        unseal(self._secrets.key, subject, model, nonce, sealed)
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO templates VALUES (?, ?, ?, ?, ?, ?, ?)",
                (subject, model, nonce, sealed, source, images, created),
            )
            db.execute("DELETE FROM adapted WHERE subject = ?", (subject,))  # a new enrolment
        log.info("template stored for subject %s... (%s)", subject[:12], source)

    def put_adapted(self, subject: str, model: str, embedding: Vector) -> int:
        """Store the subject's adapted reference beside the enrolment (kept unchanged); returns
        how many updates it has absorbed. TemplateError when there is no enrolment of `model`."""
        nonce, sealed = seal(self._secrets.key, subject, model, embedding, ADAPTED_AAD_PREFIX)
        updated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            row = db.execute("SELECT model FROM templates WHERE subject = ?", (subject,)).fetchone()
            if row is None or row[0] != model:
                raise TemplateError(f"no {model} enrolment of {subject[:12]}... to adapt")
            db.execute(
                "INSERT INTO adapted VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(subject) DO UPDATE "
                "SET model = excluded.model, nonce = excluded.nonce, sealed = excluded.sealed, "
                "updates = updates + 1, updated_utc = excluded.updated_utc",
                (subject, model, nonce, sealed, updated),
            )
            (updates,) = db.execute(
                "SELECT updates FROM adapted WHERE subject = ?", (subject,)
            ).fetchone()
        log.info("adapted reference stored for subject %s... (%d updates)", subject[:12], updates)
        return int(updates)

    def get(self, id_number: str) -> Reference | None:
        subject = self.subject(id_number)
        with self._connect() as db:
            row = db.execute(
                "SELECT model, nonce, sealed, source, images FROM templates WHERE subject = ?",
                (subject,),
            ).fetchone()
            adapted = db.execute(
                "SELECT nonce, sealed, updates FROM adapted WHERE subject = ? AND model = ?",
                (subject, row[0] if row else ""),
            ).fetchone()
        if row is None:
            return None
        model, nonce, sealed, source, images = row
        vector = unseal(self._secrets.key, subject, model, nonce, sealed)
        if adapted is None:
            return Reference(subject, model, vector, source, int(images))
        current = unseal(self._secrets.key, subject, model, adapted[0], adapted[1],
                         ADAPTED_AAD_PREFIX)  # fmt: skip
        return Reference(subject, model, current, source, int(images), vector, int(adapted[2]))

    def revoke(self, id_number: str) -> bool:
        return self.revoke_subject(self.subject(id_number))

    def revoke_subject(self, subject: str) -> bool:
        """Delete the row (True if there was one); the WAL is checkpointed so it leaves the disk."""
        with self._connect() as db:
            deleted = db.execute("DELETE FROM templates WHERE subject = ?", (subject,)).rowcount
            db.execute("DELETE FROM adapted WHERE subject = ?", (subject,))
        with self._connect() as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(deleted)

    def count(self) -> int:
        with self._connect() as db:
            (number,) = db.execute("SELECT COUNT(*) FROM templates").fetchone()
        return int(number)

    def status(self) -> dict[str, Any]:
        if self.held is not None:
            return {"path": str(self._path), "templates": None, "held": self.held}
        return {"path": str(self._path), "templates": self.count(), "held": None}
