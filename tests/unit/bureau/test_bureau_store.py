"""The bureau store on SQLite and on a real PostgreSQL, through one code path."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from device.bureau import schema
from device.bureau.store import ResultStore, StoredResult, Unstorable

Factory = Callable[[], ResultStore]


def _row(jti: str, seq: int, epoch: str = "e1", received_ns: int = 1) -> StoredResult:
    return StoredResult(jti, "dev-1", "t1", seq, 1, received_ns, "r1", {"decision": "pass"},
                        None, epoch)


def test_store_deduplicates_and_tells_replays_apart(make_store: Factory) -> None:
    store = make_store()
    store.open()
    assert store.insert(_row("a", 1), "d1", "tok").outcome == "stored"
    assert store.insert(_row("a", 1), "d1", "tok").outcome == "duplicate"
    assert store.insert(_row("a", 2), "d2", "tok2").outcome == "replayed_id"
    assert store.insert(_row("b", 1), "d3", "tok3").outcome == "replayed_seq"
    assert store.count() == 1 and [r.jti for r in store.rows()] == ["a"]
    store.close()


def test_a_new_epoch_is_a_logged_reset_and_a_skipped_seq_a_gap(make_store: Factory) -> None:
    store = make_store()
    store.open()
    assert store.insert(_row("a", 1), "d", "t").sequence == "first"
    assert store.insert(_row("b", 2), "d", "t").sequence is None
    gap = store.insert(_row("c", 5), "d", "t")
    assert (gap.sequence, gap.missing) == ("gap", 2)
    assert store.insert(_row("d", 3), "d", "t").sequence == "out_of_order"
    # the outbox was lost: seq starts again at 1 under a new epoch and is stored, not refused
    reset = store.insert(_row("e", 1, epoch="e2"), "d", "t")
    assert (reset.outcome, reset.sequence) == ("stored", "reset")
    assert store.count() == 5
    store.close()


def test_a_row_the_database_cannot_hold_undoes_only_itself(make_store: Factory) -> None:
    store = make_store()
    store.open()
    store.insert(_row("a", 1), "d", "t", commit=False)
    bad = StoredResult("b", "dev-1", "t1", 2**63, 1, 1, "r1", {}, None, "e1")
    with pytest.raises(Unstorable):
        store.insert(bad, "d", "t", commit=False)
    store.dead_letter(1, "r1", "faceterm/v1/t1/dev-1/result", "unstorable", "dev-1",
                      b"payload\x00\xff", commit=False)
    store.insert(_row("c", 3), "d", "t", commit=False)
    store.commit()
    assert sorted(r.jti for r in store.rows()) == ["a", "c"]
    (letter,) = store.dead_letters()
    assert letter.reason == "unstorable" and "\x00" not in letter.payload
    store.close()


def test_retention_purges_old_results_dead_letters_and_audit_rows(make_store: Factory) -> None:
    store = make_store()
    store.open()
    store.insert(_row("old", 1, received_ns=100), "d", "t")
    store.insert(_row("new", 2, received_ns=10_000), "d", "t")
    store.dead_letter(100, "r1", "x", "stale", None, b"x")
    for at_ns in (100, 10_000):
        store._run("INSERT INTO audit (at_ns, actor, action, subject) VALUES (?,?,?,?)",
                   (at_ns, "op", "view_personal", "results"))
    store.commit()
    assert store.purge(before_ns=5_000) == {"results": 1, "dead_letters": 1, "audit": 1,
                                            "telemetry_history": 0}
    assert [r.jti for r in store.rows()] == ["new"] and store.count("dead_letters") == 0
    store.close()


def test_migrations_bring_a_first_version_database_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(schema.RESULTS_V1)
        db.execute("INSERT INTO results VALUES ('j', 'dev-1', 't1', 7, 1, 1, 'r', 'd', '{}',"
                   " NULL, 'tok')")
    store = ResultStore(path)
    store.open()
    (row,) = list(store.rows())
    assert (row.jti, row.seq, row.epoch) == ("j", 7, "")
    assert store.migrate() == schema.LATEST  # applying again is a no-op
    store.close()
