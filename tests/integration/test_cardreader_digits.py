"""ID digits from a misbehaving reader (real pyserial on the pty simulator): full-width digits
are normalised to ASCII inside the codec; superscripts and other scripts' digits are a clear
codec error; and no ID digit reaches the log, tracebacks included."""

from __future__ import annotations

import io
import logging
import queue
import re
import time
from contextlib import suppress
from typing import Any

import pytest

from device.cardreader.events import CardInserted, QueueSink, ReaderError, ReaderEvent
from device.cardreader.reader import CardReader
from device.cardreader.settings import CardReaderSettings
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import SimScript
from device.logsetup import make_handler
from tests.integration.test_cardreader_faults import CARD, FAST

NUMBER = CARD["id_number"]  # 110101195203140127
FULL_WIDTH = NUMBER.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


def read_events(id_number: str, until: type, timeout_s: float = 10.0) -> tuple[list[Any], str]:
    """Run the reader component on a simulated card; return its events and the log text
    as the daemon's own (redacting) handler wrote it."""
    handler = make_handler("stdout")
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    script = {"steps": [{"card": {**CARD, "id_number": id_number}, "present_s": 60}], "seed": 3}
    sim = SimulatedReader(SimScript.model_validate(script))
    sim.start()
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=256)
    settings = CardReaderSettings.model_validate({**FAST, "type": "serial", "port": sim.port})
    reader = CardReader(settings, QueueSink(events))
    reader.start()
    seen: list[ReaderEvent] = []
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not any(isinstance(e, until) for e in seen):
            with suppress(queue.Empty):
                seen.append(events.get(timeout=0.05))
    finally:
        reader.stop()
        sim.stop()
        root.removeHandler(handler)
        root.setLevel(level)
    return seen, stream.getvalue()


def digit_runs(text: str) -> list[str]:
    return re.findall(r"[\d\u00b2\u00b3\u00b9\u2070-\u2089]{5,}", text)


def test_full_width_digits_are_read_as_the_ascii_number() -> None:
    seen, _ = read_events(FULL_WIDTH, CardInserted)
    cards = [e.card for e in seen if isinstance(e, CardInserted)]
    assert cards and cards[0].id_number == NUMBER


@pytest.mark.parametrize("position", [0, 8, 16])
@pytest.mark.parametrize("char", ["\u00b9", "\u2081", "\u0661", "a"])
def test_a_non_ascii_digit_is_a_codec_error_and_no_id_digit_is_logged(
    position: int, char: str
) -> None:
    number = NUMBER[:position] + char + NUMBER[position + 1 :]
    seen, log = read_events(number, ReaderError)
    errors = [e for e in seen if isinstance(e, ReaderError)]
    assert errors and errors[0].code == "read_failed", seen
    assert f"character {position + 1} of the ID number is not a digit" in log
    assert "unexpected failure" not in log
    assert not any(isinstance(e, CardInserted) for e in seen)
    for run in digit_runs(log):
        assert run not in NUMBER, f"ID digits {run!r} in the log"
