"""Record before screen on every path, with the real models, a real templates store and a real
outbox: no session starts while the outbox cannot store, a decision that could not be stored is
never shown (the person is sent to a window), and nothing waits in memory; a damaged templates
database is renamed aside and held, never silently replaced by an empty one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from device.match.keys import load_secrets
from device.match.templates import TemplateError, TemplateStore
from device.publish.envelope import Envelope, uuid7
from device.publish.outbox import Outbox
from device.session.offline import Collector
from device.storage import DiskFull, release_hold
from tests.integration.test_session_e2e import OTHER_ID, card, runner_for, vision  # noqa: F401


@pytest.fixture
def store(tmp_path: Path) -> TemplateStore:
    s = TemplateStore(tmp_path / "templates.sqlite3", load_secrets(tmp_path, environ={}))
    s.open()
    return s


def _full_outbox(path: Path) -> Outbox:
    box = Outbox(path, 10, 0.8)
    box.open()
    for _ in range(10):
        box.append("t", lambda seq: Envelope(str(uuid7()), seq, "token"))
    return box


def test_no_session_starts_while_the_outbox_cannot_store(
    store: TemplateStore, vision: Any, tmp_path: Path  # noqa: F811
) -> None:
    box = _full_outbox(tmp_path / "outbox.sqlite3")
    sink = Collector()
    runner = runner_for(store, vision, sink)
    runner._readiness = box.problem  # what build_runner wires to Publisher.problem
    runner.on_card(card(OTHER_ID), 0.0)
    assert runner.state() == "idle" and sink.records == []
    assert sink.views[-1]["code"] == "out_of_service"
    assert sink.views[-1]["zh"] == "暂停服务，请到窗口办理"
    assert runner.status()["unavailable"].startswith("outbox full")
    box.close()


def test_a_decision_that_cannot_be_stored_is_not_shown_nor_kept_in_memory(
    store: TemplateStore, vision: Any  # noqa: F811
) -> None:
    sink = Collector()
    calls: list[dict[str, Any]] = []

    class RefusingOutbox:
        def on_view(self, view: dict[str, Any]) -> None:
            sink.on_view(view)

        def on_record(self, record: dict[str, Any], personal: dict[str, str]) -> None:
            calls.append(record)
            raise DiskFull("outbox: disk full")

    runner = runner_for(store, vision, RefusingOutbox())
    runner.on_card(card(OTHER_ID), 0.0)  # no reference: decided at once
    for step in range(1, 20):
        runner.on_tick(step * 0.5)
    assert len(calls) == 1  # tried once, not retried from memory
    assert not [v for v in sink.views if v["result"] is not None]
    assert "out_of_service" in [v["code"] for v in sink.views]
    assert runner.counters["records_refused"] == 1


def test_a_damaged_templates_database_is_held_not_replaced_by_an_empty_one(
    tmp_path: Path,
) -> None:
    secrets = load_secrets(tmp_path, environ={})
    path = tmp_path / "templates.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    store = TemplateStore(path, secrets)
    store.open()
    problem = store.problem()
    assert problem is not None and "renamed aside" in problem
    assert list(tmp_path.glob("templates.sqlite3.corrupt-*"))
    with pytest.raises(TemplateError, match="held"):
        store.get(OTHER_ID)
    again = TemplateStore(path, secrets)
    again.open()  # a restart keeps it held: the operator must act
    assert again.problem() is not None
    assert release_hold(path)
    after = TemplateStore(path, secrets)
    after.open()
    assert after.problem() is None and after.count() == 0
