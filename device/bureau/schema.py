"""The bureau store's tables and their versioned migrations (SQLite and PostgreSQL alike).

Each migration is a list of statements applied in one transaction; `schema_version` holds the
number of the last one applied. `{serial}` is the only dialect-specific word: an integer key the
database assigns. Receivers apply pending migrations at start (PostgreSQL under an advisory
lock, SQLite under BEGIN IMMEDIATE), so several receivers may start together.
"""

from __future__ import annotations

SERIAL = {"sqlite": "INTEGER PRIMARY KEY",
          "postgres": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}

RESULTS_V1 = """CREATE TABLE IF NOT EXISTS results (
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

RESULTS_V2 = """CREATE TABLE results_v2 (
    jti TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    epoch TEXT NOT NULL DEFAULT '',
    seq BIGINT NOT NULL,
    iat BIGINT NOT NULL,
    clock_unsynced INTEGER NOT NULL DEFAULT 0,
    received_ns BIGINT NOT NULL,
    receiver TEXT NOT NULL,
    digest TEXT NOT NULL,
    record TEXT NOT NULL,
    personal TEXT,
    envelope TEXT NOT NULL,
    UNIQUE (device_id, epoch, seq)
)"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (RESULTS_V1,),
    (
        RESULTS_V2,
        "INSERT INTO results_v2 (jti, device_id, tenant, seq, iat, received_ns, receiver,"
        " digest, record, personal, envelope) SELECT jti, device_id, tenant, seq, iat,"
        " received_ns, receiver, digest, record, personal, envelope FROM results",
        "DROP TABLE results",
        "ALTER TABLE results_v2 RENAME TO results",
        "CREATE INDEX results_received ON results (received_ns)",
        # the highest seq seen per device and sequence epoch: resets and gaps are told apart
        "CREATE TABLE sequences (device_id TEXT NOT NULL, epoch TEXT NOT NULL,"
        " max_seq BIGINT NOT NULL, first_ns BIGINT NOT NULL, PRIMARY KEY (device_id, epoch))",
        # messages that could not be verified or stored: kept, never blocking the stream
        "CREATE TABLE dead_letters (id {serial}, received_ns BIGINT NOT NULL,"
        " receiver TEXT NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL,"
        " device_id TEXT, payload TEXT NOT NULL)",
        "CREATE INDEX dead_letters_received ON dead_letters (received_ns)",
    ),
    # the bureau console (device/bureau/console): staff, sessions, audit, fleet state
    (
        "CREATE TABLE IF NOT EXISTS console_accounts (username TEXT PRIMARY KEY,"
        " password_hash TEXT NOT NULL, role TEXT NOT NULL, created_ns BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS console_sessions (token_sha256 TEXT PRIMARY KEY,"
        " username TEXT NOT NULL, role TEXT NOT NULL, csrf TEXT NOT NULL,"
        " created_ns BIGINT NOT NULL, seen_ns BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS audit (id {serial}, at_ns BIGINT NOT NULL,"
        " actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS device_state (device_id TEXT PRIMARY KEY,"
        " tenant TEXT NOT NULL, status TEXT, status_ns BIGINT, telemetry TEXT,"
        " telemetry_ns BIGINT, first_camera TEXT)",
        "CREATE TABLE IF NOT EXISTS telemetry_history (device_id TEXT NOT NULL,"
        " received_ns BIGINT NOT NULL, payload TEXT NOT NULL,"
        " PRIMARY KEY (device_id, received_ns))",
        "CREATE TABLE IF NOT EXISTS fleet_jobs (jti TEXT PRIMARY KEY, device_id TEXT NOT NULL,"
        " command TEXT NOT NULL, issued_by TEXT NOT NULL, issued_ns BIGINT NOT NULL,"
        " status TEXT NOT NULL, reason TEXT, updated_ns BIGINT NOT NULL)",
    ),
)

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
LATEST = len(MIGRATIONS)


def statements(version: int, dialect: str) -> tuple[str, ...]:
    """The statements of migration number `version` (1-based) for a dialect."""
    return tuple(s.replace("{serial}", SERIAL[dialect]) for s in MIGRATIONS[version - 1])
