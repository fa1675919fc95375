"""The bureau store's tables, in one place (SQLAlchemy Core 2.x): SQLite and PostgreSQL alike.

- `results`: verified results, once by jti and once by (device_id, epoch, seq).
- `dead_letter`: messages refused or impossible to store, kept (once per payload digest) so one
  bad message never blocks the stream; the envelope is kept as received (ASCII) or base64.
- `audit`: who looked at personal data (written by the console), purged by retention.
- `schema_version`: the migrations applied (see MIGRATIONS in store.py).
Times are integer nanoseconds since the Unix epoch (`*_ns`) or JWT seconds (`iat`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

results = Table(
    "results", metadata,
    Column("jti", String(64), primary_key=True),
    Column("device_id", String(128), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("epoch", String(64), nullable=False, server_default=""),
    Column("seq", BigInteger, nullable=False),
    Column("iat", BigInteger, nullable=False),
    Column("received_ns", BigInteger, nullable=False),
    Column("receiver", String(128), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("record", Text, nullable=False),
    Column("personal", Text),
    Column("envelope", Text, nullable=False),
    Column("clock_unsynced", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("device_id", "epoch", "seq", name="results_device_epoch_seq"),
)

dead_letter = Table(
    "dead_letter", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("received_ns", BigInteger, nullable=False),
    Column("receiver", String(128), nullable=False),
    Column("topic", Text, nullable=False),
    Column("device_id", String(128)),
    Column("reason", String(64), nullable=False),
    Column("envelope", Text, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ns", BigInteger, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", Text, nullable=False),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_ns", BigInteger, nullable=False),
)

# created by migration 2 (not part of create_all of migration 1)
RECEIVED_INDEX = Index("results_received_ns", results.c.received_ns)
AUDIT_INDEX = Index("audit_at_ns", audit.c.at_ns)
