"""The console's own tables (SQLAlchemy Core), beside the bureau store's in device/bureau/schema.py
(results, dead_letter, audit), which the console reads and, for audit, writes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

metadata = MetaData()

accounts = Table(
    "console_accounts", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_ns", BigInteger, nullable=False),
)

sessions = Table(
    "console_sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("seen_ns", BigInteger, nullable=False),
)

device_state = Table(
    "device_state", metadata,
    Column("device_id", String(128), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("status", String(16)),
    Column("status_ns", BigInteger),
    Column("telemetry", Text),
    Column("telemetry_ns", BigInteger),
    Column("first_camera", Text),
)

telemetry_history = Table(
    "telemetry_history", metadata,
    Column("device_id", String(128), primary_key=True),
    Column("received_ns", BigInteger, primary_key=True),
    Column("payload", Text, nullable=False),
)

fleet_jobs = Table(
    "fleet_jobs", metadata,
    Column("jti", String(64), primary_key=True),
    Column("device_id", String(128), nullable=False),
    Column("command", String(64), nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("issued_ns", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("updated_ns", BigInteger, nullable=False),
)
