"""Every fault the simulator injects either recovers or ends in a clear error (real pyserial)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from device.cardreader.events import (
    CardInserted,
    QueueSink,
    ReaderError,
    ReaderEvent,
)
from device.cardreader.link import LinkLost, SamError, SamLink
from device.cardreader.protocol import Cmd, Status
from device.cardreader.reader import CardReader
from device.cardreader.settings import CardReaderSettings
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import SimScript
from tests.support.cards import FAST_READER, card_fields

CARD = card_fields(name="王秀英", sex_code="2", birth_date="19520314",
                   address="北京市东城区示例胡同1号", id_number="110101195203140127",
                   valid_from="20150601")
FAST = FAST_READER


@contextmanager
def simulator(*faults: dict[str, Any]) -> Iterator[SimulatedReader]:
    script = {"steps": [{"card": CARD, "present_s": 60}], "faults": list(faults), "seed": 3}
    sim = SimulatedReader(SimScript.model_validate(script))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@contextmanager
def open_link(sim: SimulatedReader) -> Iterator[SamLink]:
    link = SamLink(CardReaderSettings.model_validate({**FAST, "port": sim.port}), sim.port)
    link.open()
    try:
        yield link
    finally:
        link.close()


def read_through(link: SamLink) -> str:
    assert link.find_card() and link.select_card()
    return link.read_card().id_number


READS = ["READ_TEXT_PHOTO"]


def test_corrupted_checksums_are_counted_and_retried() -> None:
    with simulator({"kind": "checksum", "every": 2, "count": 3}) as sim, open_link(sim) as link:
        assert read_through(link) == CARD["id_number"]
        counters = link.counters()
    assert counters["checksum_errors"] >= 1 and counters["retries"] >= 1
    assert sim.status()["faults"]["checksum"] >= 1


def test_garbage_before_every_frame_is_skipped() -> None:
    rule = {"kind": "garbage", "every": 1, "garbage_bytes": 37}
    with simulator(rule) as sim, open_link(sim) as link:
        for _ in range(3):
            assert read_through(link) == CARD["id_number"]
        counters = link.counters()
    assert counters["resyncs"] >= 10 and counters["retries"] == 0


def test_frames_split_across_writes_with_delays_are_joined() -> None:
    rule = {"kind": "split", "every": 1, "delay_s": 0.03}
    with simulator(rule) as sim, open_link(sim) as link:
        assert read_through(link) == CARD["id_number"]
        assert link.counters()["timeouts"] == 0
    assert sim.status()["faults"]["split"] >= 4


def test_a_dropped_answer_times_out_then_recovers() -> None:
    rule = {"kind": "silence", "commands": READS, "count": 1}
    with simulator(rule) as sim, open_link(sim) as link:
        assert read_through(link) == CARD["id_number"]
        counters = link.counters()
    assert counters["timeouts"] == 1 and counters["retries"] == 1


def test_a_sam_that_reports_a_bad_checksum_gets_the_command_again() -> None:
    rule = {"kind": "status", "status": Status.RX_CHECKSUM_ERROR, "commands": READS, "count": 2}
    with simulator(rule) as sim, open_link(sim) as link:
        assert read_through(link) == CARD["id_number"]
        assert link.counters()["resend_requests"] == 2


def test_a_read_error_status_is_a_clear_sam_error() -> None:
    rule = {"kind": "status", "status": Status.READ_FAILED, "commands": READS, "count": 1}
    with simulator(rule) as sim, open_link(sim) as link:
        with pytest.raises(SamError, match=r"0x41 \(reading the card failed\)") as info:
            read_through(link)
        assert info.value.status == Status.READ_FAILED
        assert read_through(link) == CARD["id_number"]


def test_silence_beyond_the_retry_cap_is_a_lost_link() -> None:
    rule = {"kind": "silence", "commands": READS, "delay_s": 5.0, "count": 1}
    with simulator(rule) as sim, open_link(sim) as link:
        assert link.find_card() and link.select_card()
        started = time.monotonic()
        with pytest.raises(LinkLost, match=r"READ_TEXT_PHOTO: no valid answer .* in 3 tries"):
            link.read_card()
        elapsed = time.monotonic() - started
        assert link.counters()["timeouts"] == 3
    assert 0.6 <= elapsed < 1.5  # 3 x 0.2 s read timeout + capped backoff


def test_a_disconnect_is_detected_as_a_lost_link() -> None:
    rule = {"kind": "disconnect", "commands": ["SELECT_CARD"], "delay_s": 0.3, "count": 1}
    with simulator(rule) as sim, open_link(sim) as link:
        assert link.find_card()
        with pytest.raises(LinkLost):
            link.transact(Cmd.SELECT_CARD)


def run_reader(
    sim: SimulatedReader, until: type, timeout_s: float
) -> tuple[list[Any], dict[str, Any]]:
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=256)
    settings = CardReaderSettings.model_validate({**FAST, "type": "serial", "port": sim.port})
    reader = CardReader(settings, QueueSink(events))
    reader.start()
    seen: list[ReaderEvent] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not (seen and isinstance(seen[-1], until)):
            with suppress(queue.Empty):
                seen.append(events.get(timeout=0.05))
        return seen, reader.status()
    finally:
        reader.stop()


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "disconnect", "commands": ["FIND_CARD"], "delay_s": 0.3, "count": 1},
        {"kind": "silence", "commands": ["FIND_CARD"], "delay_s": 0.8, "count": 1},
    ],
    ids=["disconnect", "long-silence"],
)
def test_component_declares_the_loss_reconnects_and_reads(rule: dict[str, Any]) -> None:
    with simulator(rule) as sim:
        seen, status = run_reader(sim, CardInserted, 8.0)
    codes = [e.code for e in seen if isinstance(e, ReaderError)]
    assert codes[0] == "link_lost" and "link_restored" in codes
    assert isinstance(seen[-1], CardInserted)
    assert status["reconnects"] >= 1 and status["links_lost"] >= 1


def test_component_reports_a_card_that_never_reads() -> None:
    rule = {"kind": "status", "status": Status.READ_FAILED, "commands": READS}
    with simulator(rule) as sim:
        seen, status = run_reader(sim, ReaderError, 5.0)
    assert [e.code for e in seen if isinstance(e, ReaderError)] == ["read_failed"]
    assert not [e for e in seen if isinstance(e, CardInserted)]
    assert status["card_present"]


def test_component_rides_over_occasional_faults() -> None:
    rules = [
        {"kind": "checksum", "every": 3},
        {"kind": "garbage", "every": 2, "garbage_bytes": 5},
        {"kind": "split", "every": 4, "delay_s": 0.01},
    ]
    with simulator(*rules) as sim:
        seen, status = run_reader(sim, CardInserted, 5.0)
    assert isinstance(seen[-1], CardInserted)
    assert not [e for e in seen if isinstance(e, ReaderError)]
    assert status["checksum_errors"] >= 1 and status["resyncs"] >= 1


def test_component_reports_a_sam_error_streak_once_then_recovers() -> None:
    rule = {"kind": "status", "status": Status.SAM_NOT_AUTHORIZED, "commands": ["FIND_CARD"]}
    with simulator({**rule, "count": 4}) as sim:
        seen, status = run_reader(sim, CardInserted, 5.0)
    errors = [e for e in seen if isinstance(e, ReaderError)]
    assert [e.code for e in errors] == ["sam_error"]
    assert "0x66 (SAM module not authorised)" in errors[0].detail
    assert isinstance(seen[-1], CardInserted) and status["reconnects"] == 0
