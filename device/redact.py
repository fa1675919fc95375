"""Privacy helpers: mask ID numbers wherever text may reach a log.

Two rules: an 18-character GB 11643 number of ASCII digits is masked as 4 + 10 stars + 4; and
any other run of 14 or more digit characters of any script (full-width, Arabic-Indic,
superscripts and subscripts included), as a misbehaving reader or a half-parsed number leaves in
an exception text, is masked entirely. The logging filter applies both to the message, the
exception text and the stack, so no handler or formatter sees a clear number.
"""

from __future__ import annotations

import logging
import re

_ID_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3})([0-9Xx])(?![0-9])")
# \d is every Unicode decimal digit; superscripts and subscripts are "other numbers", added here.
_DIGIT = r"[\d\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089]"
_DIGIT_RUN_RE = re.compile(rf"{_DIGIT}{{14,}}[XxＸｘ]?")
MIN_MASKED_RUN = 14


def mask_id(number: str) -> str:
    """Mask an 18-character ID number as 4 + 10 stars + 4, e.g. 1101**********123X."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def redact_text(text: str) -> str:
    """Mask every ID number and every long run of digits of any script in text."""
    masked = _ID_RE.sub(lambda m: mask_id(m.group(0)), text)
    return _DIGIT_RUN_RE.sub(lambda m: "*" * len(m.group(0)), masked)


class RedactingFilter(logging.Filter):
    """Masks ID numbers in the rendered message, the exception text (the traceback is rendered
    here once and kept as exc_text, which formatters print instead of formatting it again) and
    the stack information of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True
