"""The console's queries on SQLite and on a real throwaway PostgreSQL 15 (tests/support/
postgres.py): fleet state and alarms, results filters, rates, dead letters, audit."""

from __future__ import annotations

import hashlib
import itertools
import time
from pathlib import Path

import pytest

from device.bureau.console.alarms import alarms, online
from device.bureau.console.db import Database
from device.bureau.console.queries import Queries, ResultFilter
from device.bureau.store import ResultStore
from tests.support.console import seed_into

NAMES = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgres"])
def queries(request: pytest.FixtureRequest, tmp_path: Path) -> Queries:
    if request.param == "sqlite":
        db, store = Database(path=tmp_path / "r.sqlite3"), ResultStore(path=tmp_path / "r.sqlite3")
    else:
        dsn = request.getfixturevalue("postgres").fresh_database(f"console_{next(NAMES)}")
        db, store = Database(dsn=dsn), ResultStore(dsn=dsn)
    db.open()
    seed_into(store, (("d1", "k1"), ("d1", "k2"), ("d2", "k3")), 14)
    return Queries(db)


def test_results_filters_and_rates(queries: Queries) -> None:
    everything = queries.results(ResultFilter(limit=1000))
    assert len(everything) == 42
    assert {r.device_id for r in queries.results(ResultFilter(district="d1"))} == {"k1", "k2"}
    passes = queries.results(ResultFilter(decision="pass"))
    assert passes and all(r.decision == "pass" for r in passes)
    assert len(passes) == 3 * 8
    day = queries.results(ResultFilter(day="2026-12-01"))
    assert day and {time.strftime("%Y-%m-%d", time.gmtime(r.iat)) for r in day} == {"2026-12-01"}
    by_kiosk = {r.key: r for r in queries.rates(ResultFilter(), "device")}
    assert set(by_kiosk) == {"k1", "k2", "k3"}
    assert (by_kiosk["k1"].total, by_kiosk["k1"].passed, by_kiosk["k1"].failed,
            by_kiosk["k1"].referred) == (14, 8, 2, 2)
    days = queries.rates(ResultFilter(district="d2"), "day")
    assert [d.key for d in days] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert sum(d.total for d in days) == 14
    personal = queries.personal_results(ResultFilter(device="k3"))
    assert len(personal) == 14 and all(p["name"].startswith("测试") for _, p in personal)


def test_fleet_state_alarms_jobs_audit_and_dead_letters(queries: Queries) -> None:
    now = time.time_ns()
    queries.record_status("d1", "k1", "online", now)
    queries.record_telemetry("d1", "k1", {"time": int(now / 1e9), "outbox_depth": 1,
                                          "outbox_capacity": 10, "camera": "cam-a"}, now)
    queries.record_telemetry("d1", "k1", {"time": int(now / 1e9) - 600, "outbox_depth": 9,
                                          "outbox_capacity": 10, "camera": "cam-b"}, now + 1)
    queries.record_status("d1", "k1", "offline", now + 2)
    state = queries.device("k1")
    assert state is not None and not online(state) and state.first_camera == "cam-a"
    assert alarms(state) == ("outbox near full", "camera changed", "clock off")
    assert len(queries.telemetry_history("k1")) == 2
    queries.record_job("j1", "k1", "status.get", "li", now)
    queries.update_job("j1", "k1", "SUCCEEDED", None, now + 5)
    assert queries.jobs("k1")[0][4] == "SUCCEEDED"
    queries.audit("li", "view_personal", "results", "device=k1")
    assert queries.audit_rows()[0][1:] == ("li", "view_personal", "results device=k1")
    with queries.db.transaction() as cur:
        cur.execute("INSERT INTO dead_letters (received_ns, receiver, topic, reason, device_id, "
                    "payload) VALUES (?,?,?,?,?,?)",
                    (now, "r1", "faceterm/v1/d1/k1/result", "bad_signature", "k1", "x.y.z"))
    assert queries.dead_letters() == [(now, "faceterm/v1/d1/k1/result", "k1", "bad_signature",
                                       hashlib.sha256(b"x.y.z").hexdigest(), 5)]
