"""The redaction filter covers the exception text and stack too, and numbers in any script."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest

from device.cardreader.idnumber import CardRejected, normalise_id_number, validate_id_number
from device.redact import RedactingFilter, redact_text

NUMBER = "110101195806010153"




def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))  # a plain, non-redacting formatter
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.redaction")
    log.handlers = [handler]
    log.propagate = False
    return log, stream


def test_the_filter_masks_a_traceback_whatever_the_formatter() -> None:
    log, stream = capture()
    try:
        int("\u00b9" + NUMBER[1:17], 13)  # what stdnum did with a superscript digit
    except ValueError:
        log.exception("card %s failed", NUMBER)
    try:
        raise RuntimeError(f"number {NUMBER}")
    except RuntimeError:
        log.error("again", exc_info=True, stack_info=True)
    text = stream.getvalue()
    assert "Traceback" in text and "Stack (most recent call last)" in text
    assert NUMBER[1:17] not in text and NUMBER not in text
    assert "1101**********0153" in text


@pytest.mark.parametrize("text", [
    NUMBER.translate({ord("0") + i: 0xFF10 + i for i in range(10)}),  # full-width
    NUMBER[:5] + "\u00b9" + NUMBER[6:],  # a superscript inside
    NUMBER.translate({ord("0") + i: 0x0660 + i for i in range(10)}),  # Arabic-Indic
])
def test_numbers_in_any_script_are_masked(text: str) -> None:
    assert not any(ch.isdigit() or ch.isnumeric() for ch in redact_text(f"x {text} y")[2:-2])


def test_short_numbers_stay_readable() -> None:
    assert redact_text("seq 12345 at 1800000000.5") == "seq 12345 at 1800000000.5"


@pytest.mark.parametrize("char", ["\u00b9", "\u00b2", "\u2083", "\u0663", "\u06f3", " ", "-"])
@pytest.mark.parametrize("position", range(18))
def test_every_entry_refuses_a_non_ascii_digit_with_a_reason(char: str, position: int) -> None:
    number = NUMBER[:position] + char + NUMBER[position + 1 :]
    with pytest.raises(CardRejected) as info:
        validate_id_number(number, dt.date(2026, 12, 2))
    assert str(info.value) == f"id_format: character {position + 1} of the ID number is not a digit"


def test_full_width_and_lower_x_normalise() -> None:
    assert normalise_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
