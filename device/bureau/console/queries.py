"""Every query the console runs, over the receiver's `results` and the console's own tables.

Kept in one module so the schema can move (migrations, PostgreSQL) without touching the views.
Rows that leave this module for a viewer never carry personal data: `personal` (the unsealed
ID number and name) and `subject` are only read by `personal_results` and `export_rows`, which
the views call for the operator role and audit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from device.bureau.console.alarms import DeviceState, camera_key
from device.bureau.console.chart import DayCounts
from device.bureau.console.db import Cursor, Database

HISTORY_KEEP_S = 7 * 24 * 3600
DAY_S = 86_400
MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class ResultFilter:
    district: str = ""
    device: str = ""
    day: str = ""  # YYYY-MM-DD (UTC)
    decision: str = ""
    limit: int = 200

    def where(self, cur: Cursor) -> tuple[str, list[Any]]:
        clauses: list[str] = ["1 = 1"]
        args: list[Any] = []
        for value, sql in ((self.district, "tenant = ?"), (self.device, "device_id = ?"),
                           (self.decision, f"{cur.json_text('record', 'decision')} = ?")):
            if value:
                clauses.append(sql)
                args.append(value)
        if self.day:
            start = int(dt.datetime.fromisoformat(self.day).replace(tzinfo=dt.UTC).timestamp())
            clauses.append("iat >= ? AND iat < ?")
            args.extend((start, start + DAY_S))
        return " AND ".join(clauses), args


@dataclass(frozen=True, slots=True)
class ResultRow:
    """A result as a viewer may see it: no subject hash, no ID number, no name."""

    jti: str
    device_id: str
    tenant: str
    seq: int
    iat: int
    decision: str
    reasons: tuple[str, ...]
    match: float | None
    liveness: float | None


@dataclass(frozen=True, slots=True)
class Rate:
    key: str
    total: int
    passed: int
    failed: int
    referred: int

    def pct(self, count: int) -> float:
        return 100.0 * count / self.total if self.total else 0.0


class Queries:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ fleet state (writes)
    def record_status(self, tenant: str, device: str, status: str, now_ns: int) -> None:
        with self.db.transaction() as cur:
            if not cur.execute("UPDATE device_state SET status = ?, status_ns = ?, tenant = ? "
                               "WHERE device_id = ?", (status, now_ns, tenant, device)):
                cur.execute("INSERT INTO device_state (device_id, tenant, status, status_ns) "
                            "VALUES (?,?,?,?)", (device, tenant, status, now_ns))

    def record_telemetry(self, tenant: str, device: str, payload: dict[str, Any],
                         now_ns: int) -> None:
        text, camera = json.dumps(payload), camera_key(payload.get("camera"))
        with self.db.transaction() as cur:
            if not cur.execute("UPDATE device_state SET telemetry = ?, telemetry_ns = ?, "
                               "tenant = ?, first_camera = COALESCE(first_camera, ?) "
                               "WHERE device_id = ?", (text, now_ns, tenant, camera, device)):
                cur.execute("INSERT INTO device_state (device_id, tenant, telemetry, "
                            "telemetry_ns, first_camera) VALUES (?,?,?,?,?)",
                            (device, tenant, text, now_ns, camera))
            cur.execute("INSERT INTO telemetry_history VALUES (?,?,?) ON CONFLICT DO NOTHING",
                        (device, now_ns, text))
            cur.execute("DELETE FROM telemetry_history WHERE device_id = ? AND received_ns < ?",
                        (device, now_ns - HISTORY_KEEP_S * 10**9))

    def record_job(self, jti: str, device: str, command: str, who: str, now_ns: int) -> None:
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO fleet_jobs VALUES (?,?,?,?,?,?,?,?)",
                        (jti, device, command, who, now_ns, "SENT", None, now_ns))

    def update_job(self, jti: str, device: str, status: str, reason: str | None,
                   now_ns: int) -> None:
        with self.db.transaction() as cur:
            cur.execute("UPDATE fleet_jobs SET status = ?, reason = ?, updated_ns = ? "
                        "WHERE jti = ? AND device_id = ?", (status, reason, now_ns, jti, device))

    def audit(self, who: str, action: str, target: str, detail: str = "") -> None:
        """One row of the bureau's audit table (schema.audit: actor, action, subject)."""
        subject = f"{target} {detail}".strip()
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO audit (at_ns, actor, action, subject) VALUES (?,?,?,?)",
                        (time.time_ns(), who, action, subject))

    # ------------------------------------------------------------------ fleet state (reads)
    def fleet(self) -> list[DeviceState]:
        with self.db.transaction() as cur:
            rows = cur.all(f"SELECT {STATE_COLUMNS} FROM device_state ORDER BY tenant, device_id")
        return [_state(row) for row in rows]

    def device(self, device: str) -> DeviceState | None:
        with self.db.transaction() as cur:
            row = cur.one(f"SELECT {STATE_COLUMNS} FROM device_state WHERE device_id = ?",
                          (device,))
        return None if row is None else _state(row)

    def telemetry_history(self, device: str, limit: int = 50) -> list[tuple[int, dict[str, Any]]]:
        with self.db.transaction() as cur:
            rows = cur.all("SELECT received_ns, payload FROM telemetry_history WHERE "
                           "device_id = ? ORDER BY received_ns DESC LIMIT ?", (device, limit))
        return [(int(ns), json.loads(text)) for ns, text in rows]

    def jobs(self, device: str, limit: int = 50) -> list[tuple[Any, ...]]:
        with self.db.transaction() as cur:
            return cur.all("SELECT jti, command, issued_by, issued_ns, status, reason, "
                           "updated_ns FROM fleet_jobs WHERE device_id = ? "
                           "ORDER BY issued_ns DESC LIMIT ?", (device, limit))

    def dead_letters(self, limit: int = 200) -> list[tuple[Any, ...]]:
        """Refused messages: the payload itself never leaves here, only its digest and size."""
        with self.db.transaction() as cur:
            rows = cur.all("SELECT received_ns, topic, device_id, reason, payload FROM "
                           "dead_letters ORDER BY received_ns DESC LIMIT ?", (limit,))
        return [(int(at), topic, dev, reason, hashlib.sha256(str(p).encode()).hexdigest(),
                 len(str(p))) for at, topic, dev, reason, p in rows]

    def audit_rows(self, limit: int = 200) -> list[tuple[Any, ...]]:
        with self.db.transaction() as cur:
            return cur.all("SELECT at_ns, actor, action, subject FROM audit "
                           "ORDER BY at_ns DESC LIMIT ?", (limit,))

    # ------------------------------------------------------------------ results
    def results(self, flt: ResultFilter) -> list[ResultRow]:
        with self.db.transaction() as cur:
            where, args = flt.where(cur)
            rows = cur.all(f"SELECT jti, device_id, tenant, seq, iat, record FROM results "
                           f"WHERE {where} ORDER BY iat DESC, device_id, seq LIMIT ?",
                           [*args, min(flt.limit, MAX_ROWS)])
        return [_result(row) for row in rows]

    def personal_results(self, flt: ResultFilter) -> list[tuple[ResultRow, dict[str, str]]]:
        """Results with the unsealed ID number and name: operator only, and audited."""
        with self.db.transaction() as cur:
            where, args = flt.where(cur)
            rows = cur.all(f"SELECT jti, device_id, tenant, seq, iat, record, personal FROM "
                           f"results WHERE {where} ORDER BY iat DESC, device_id, seq LIMIT ?",
                           [*args, min(flt.limit, MAX_ROWS)])
        return [(_result(row[:6]), json.loads(row[6]) if row[6] else {}) for row in rows]

    def export_rows(self, flt: ResultFilter) -> list[tuple[ResultRow, dict[str, str]]]:
        """All matching results with personal data, for the pension system's CSV."""
        return self.personal_results(ResultFilter(flt.district, flt.device, flt.day,
                                                  flt.decision, limit=MAX_ROWS))

    def rates(self, flt: ResultFilter, by: str) -> list[Rate]:
        """Pass/fail/refer counts per kiosk (`by="device"`) or per UTC day (`by="day"`)."""
        with self.db.transaction() as cur:
            where, args = flt.where(cur)
            key = "device_id" if by == "device" else f"(iat / {DAY_S})"
            decision = cur.json_text("record", "decision")
            rows = cur.all(
                f"SELECT {key}, COUNT(*), "
                f"SUM(CASE WHEN {decision} = 'pass' THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN {decision} = 'fail' THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN {decision} = 'refer' THEN 1 ELSE 0 END) "
                f"FROM results WHERE {where} GROUP BY {key} ORDER BY {key}", args)
        return [Rate(_day(k) if by == "day" else str(k), int(n), int(p or 0), int(f or 0),
                     int(r or 0)) for k, n, p, f, r in rows]


def day_counts(rates: Sequence[Rate]) -> list[DayCounts]:
    return [DayCounts(r.key, r.passed, r.failed, r.referred,
                      r.total - r.passed - r.failed - r.referred) for r in rates]


STATE_COLUMNS = "device_id, tenant, status, status_ns, telemetry, telemetry_ns, first_camera"


def _state(row: tuple[Any, ...]) -> DeviceState:
    dev, tenant, status, status_ns, tele, tele_ns, camera = row
    return DeviceState(str(dev), str(tenant), status, _int(status_ns),
                       json.loads(tele) if tele else {}, _int(tele_ns), camera)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _day(days_since_epoch: Any) -> str:
    return dt.datetime.fromtimestamp(int(days_since_epoch) * DAY_S, dt.UTC).date().isoformat()


def _result(row: tuple[Any, ...]) -> ResultRow:
    jti, dev, tenant, seq, iat, text = row
    record = json.loads(text)
    scores = record.get("scores") or {}
    return ResultRow(str(jti), str(dev), str(tenant), int(seq), int(iat),
                     str(record.get("decision", "?")), tuple(record.get("reasons") or ()),
                     scores.get("match"), scores.get("liveness"))
