"""Privacy helpers: mask ID numbers wherever text may reach a log."""

from __future__ import annotations

import logging
import re

_ID_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3})([0-9Xx])(?![0-9])")


def mask_id(number: str) -> str:
    """Mask an 18-character ID number as 4 + 10 stars + 4, e.g. 1101**********123X."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def redact_text(text: str) -> str:
    """Replace every 18-character ID-number-shaped run in text by its mask."""
    return _ID_RE.sub(lambda m: mask_id(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks ID numbers in the rendered message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
