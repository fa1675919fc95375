"""Seed a console database the way the receiver and the fleet recorder fill it (tests only)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from device.bureau.console.auth import Accounts, SessionPolicy
from device.bureau.console.db import Database
from device.bureau.console.queries import Queries
from device.bureau.console.views import Console
from device.bureau.store import ResultStore, StoredResult

PASSWORDS = {"viewer": "viewer-password-1", "operator": "operator-password-1"}
DAY0 = int(dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC).timestamp())
DECISIONS = ("pass", "pass", "pass", "fail", "refer", "pass", "timeout")


def fake_person(i: int) -> dict[str, str]:
    """A fictional person (the ID number is not a real one; names from a sample list)."""
    return {"id_number": f"11010119{50 + i % 40:02d}0101{i % 1000:03d}X", "name": f"测试{i}"}


def seed_results(db_path: Path, kiosks: tuple[tuple[str, str], ...], per_kiosk: int) -> int:
    """Results over three days for (district, kiosk) pairs, stored through the ResultStore."""
    return seed_into(ResultStore(path=db_path), kiosks, per_kiosk)


def seed_into(store: ResultStore, kiosks: tuple[tuple[str, str], ...], per_kiosk: int) -> int:
    store.open()
    n = 0
    try:
        for district, kiosk in kiosks:
            for seq in range(1, per_kiosk + 1):
                iat = DAY0 + (seq % 3) * 86_400 + seq * 60
                record = {"schema": "faceterm.decision/1", "decision": DECISIONS[seq % 7],
                          "reasons": [] if DECISIONS[seq % 7] == "pass" else ["x"],
                          "scores": {"match": 0.8, "liveness": 0.7, "quality": 0.9},
                          "subject": hashlib.sha256(f"{kiosk}{seq}".encode()).hexdigest(),
                          "device_id": kiosk}
                jti = f"{kiosk}-{seq}"
                row = StoredResult(jti, kiosk, district, seq, iat, iat * 10**9, "test",
                                   record, fake_person(n))
                store.insert(row, hashlib.sha256(jti.encode()).hexdigest(), json.dumps(record))
                n += 1
    finally:
        store.close()
    return n


def console(db_path: Path, policy: SessionPolicy | None = None) -> Console:
    db = Database(path=db_path)
    db.open()
    accounts = Accounts(db, policy or SessionPolicy())
    for role, password in PASSWORDS.items():
        accounts.add(role, password, role)
    return Console(Queries(db), accounts)
