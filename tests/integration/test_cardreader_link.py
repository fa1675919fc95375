"""The card reader end to end through real pyserial on a pty answered by the simulator."""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from device import cli
from device.cardreader.backends import SerialBackend, SimBackend, make_backend
from device.cardreader.card import IdCard
from device.cardreader.events import (
    CardInserted,
    CardRefused,
    CardRemoved,
    QueueSink,
    ReaderError,
    ReaderEvent,
)
from device.cardreader.link import LinkLost, SamLink
from device.cardreader.protocol import Cmd, Status
from device.cardreader.reader import CardReader, read_once
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import SimScript
from device.config import parse
from tests.support.cards import FAST_READER, card_fields, fast_reader

GOOD = card_fields()
EXPIRED = card_fields(name="陈美兰", sex_code="2", birth_date="19560708",
                      id_number="110105195607080242", valid_from="20050101",
                      valid_until="20250101")
FAST = FAST_READER
fast = fast_reader


@contextmanager
def simulator(script: dict[str, Any]) -> Iterator[SimulatedReader]:
    sim = SimulatedReader(SimScript.model_validate(script))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def card_present(card: dict[str, str] = GOOD) -> dict[str, Any]:
    return {"steps": [{"card": card, "present_s": 60}]}


def collect(events: queue.Queue[ReaderEvent], until: type, timeout_s: float) -> list[ReaderEvent]:
    seen: list[ReaderEvent] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            seen.append(events.get(timeout=0.05))
        except queue.Empty:
            continue
        if isinstance(seen[-1], until):
            return seen
    raise AssertionError(f"no {until.__name__} within {timeout_s} s; saw {seen}")


def test_find_select_read_round_trip() -> None:
    with simulator(card_present()) as sim:
        link = SamLink(fast(), sim.port)
        link.open()
        try:
            assert link.find_card() and link.select_card()
            card = link.read_card()
            with_fp = link.read_card(with_fingerprint=True)
        finally:
            link.close()
    assert isinstance(card, IdCard)
    assert {k: getattr(card, k) for k in GOOD} == GOOD
    assert len(card.photo_wlt) == 1024 and card.fingerprint is None
    assert with_fp == card and with_fp.fingerprint == bytes(1024)
    counters = link.counters()
    assert counters["frames"] >= 5 and counters["checksum_errors"] == 0


def test_no_card_means_find_and_select_fail() -> None:
    with simulator({"steps": [{"absent_s": 60}]}) as sim:
        link = SamLink(fast(), sim.port)
        link.open()
        try:
            assert not link.find_card()
            assert not link.select_card()
        finally:
            link.close()


def test_missing_port_fails_within_the_connect_deadline(tmp_path: Path) -> None:
    link = SamLink(fast(connect_timeout_s=0.3), str(tmp_path / "nothing"))
    started = time.monotonic()
    with pytest.raises(LinkLost, match="cannot open"):
        link.open()
    assert time.monotonic() - started < 1.0


def test_component_posts_insert_refuse_and_remove() -> None:
    script = {
        "repeat": False,
        "steps": [
            {"absent_s": 0.2},
            {"card": GOOD, "present_s": 0.6},
            {"absent_s": 0.3},
            {"card": EXPIRED, "present_s": 0.6},
            {"absent_s": 30},
        ],
    }
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=64)
    with simulator(script) as sim:
        reader = CardReader(fast(sim.port), QueueSink(events), SerialBackend(fast(sim.port)))
        reader.start()
        try:
            first = collect(events, CardRemoved, 5.0)
            second = collect(events, CardRemoved, 5.0)
            status = reader.status()
        finally:
            reader.stop()
    inserted = [e for e in first if isinstance(e, CardInserted)]
    assert len(inserted) == 1 and inserted[0].card.id_number == GOOD["id_number"]
    refused = [e for e in second if isinstance(e, CardRefused)]
    assert [r.reason for r in refused] == ["expired"]
    assert not [e for e in first + second if isinstance(e, ReaderError)]
    assert status["connected"] and status["cards"] == 1 and status["refused"] == 1
    assert status["frames"] > 10 and status["reconnects"] == 0


def test_logs_never_hold_a_clear_id_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=64)
    script = {
        "steps": [
            {"card": GOOD, "present_s": 0.4},
            {"absent_s": 0.2},
            {"card": EXPIRED, "present_s": 0.4},
            {"absent_s": 0.2},
        ]
    }
    with simulator(script) as sim:
        reader = CardReader(fast(sim.port), QueueSink(events), SerialBackend(fast(sim.port)))
        reader.start()
        try:
            collect(events, CardRefused, 5.0)
        finally:
            reader.stop()
    for number in (GOOD["id_number"], EXPIRED["id_number"]):
        assert number not in caplog.text
    assert "1101**********0153" in caplog.text


def test_sim_backend_from_settings_and_read_once(tmp_path: Path) -> None:
    script = tmp_path / "one.json"
    script.write_text(json.dumps(card_present()), encoding="utf-8")
    settings = fast(type="sim", sim_script=str(script))
    backend = make_backend(settings)
    assert isinstance(backend, SimBackend)
    card = read_once(settings, 3.0, backend)
    assert card.id_number == GOOD["id_number"]


def test_read_once_without_a_card_times_out() -> None:
    with simulator({"steps": [{"absent_s": 60}]}) as sim:
        settings = fast(sim.port)
        with pytest.raises(Exception, match=r"no card presented within 0\.3 s"):
            read_once(settings, 0.3, SerialBackend(settings))


def test_cli_card_read_prints_masked_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "one.json"
    script.write_text(json.dumps(card_present()), encoding="utf-8")
    config = tmp_path / "faceterm.toml"
    lines = [f"{k} = {v}" for k, v in FAST.items()]
    config.write_text(
        '[cardreader]\ntype = "sim"\n' + f'sim_script = "{script}"\n' + "\n".join(lines) + "\n"
    )
    assert cli.main(["--config", str(config), "card", "read", "--json", "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert printed["id_number"] == "1101**********0153" and printed["verdict"] == "valid"
    assert GOOD["id_number"] not in out and GOOD["name"] not in out
    assert "not decodable" in printed["photo"]


def test_cli_card_read_refuses_an_expired_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulator(card_present(EXPIRED)) as sim:
        config = tmp_path / "faceterm.toml"
        config.write_text("[cardreader]\nread_timeout_s = 0.2\npoll_interval_s = 0.02\n")
        argv = ["--config", str(config), "card", "read", "--port", sim.port, "--timeout", "3"]
        assert cli.main(argv) == 3
    out = capsys.readouterr().out
    assert "refused: expired" in out and EXPIRED["id_number"] not in out


def test_cli_card_sim_prints_its_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "ttySAM"
    argv = ["card", "sim", "--link", str(link), "--duration", "0.2"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == str(link)
    assert not link.exists()


def test_unknown_commands_get_a_command_error_status() -> None:
    with simulator(card_present()) as sim:
        link = SamLink(fast(), sim.port)
        link.open()
        try:
            assert link.transact(Cmd.READ_APPENDIX).status == Status.RX_COMMAND_ERROR
            assert link.transact(Cmd.SAM_ID).data == bytes(16)
        finally:
            link.close()


def test_daemon_composition_from_config_with_the_simulator(tmp_path: Path) -> None:
    script = tmp_path / "one.json"
    script.write_text(json.dumps(card_present()), encoding="utf-8")
    lines = "\n".join(f"{k} = {v}" for k, v in FAST.items())
    config = parse(f'[cardreader]\ntype = "sim"\nsim_script = "{script}"\n{lines}\n')
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=8)
    reader = CardReader(config.cardreader, QueueSink(events))
    reader.start()
    try:
        seen = collect(events, CardInserted, 5.0)
        assert Path(reader.status()["port"]).is_symlink()
    finally:
        reader.stop()
    assert isinstance(seen[-1], CardInserted)


def test_placed_cards_override_the_script() -> None:
    """The demo's visitors lay cards on the simulated reader and take them away again."""
    from device.cardreader.sim_script import SimCard

    with simulator({"steps": [{"absent_s": 60}]}) as sim:
        link = SamLink(fast(), sim.port)
        link.open()
        try:
            assert not link.find_card()
            sim.place(SimCard.model_validate(GOOD))
            assert link.find_card() and link.select_card()
            assert link.read_card().id_number == GOOD["id_number"]
            sim.place(None)
            assert not link.find_card()
        finally:
            link.close()
