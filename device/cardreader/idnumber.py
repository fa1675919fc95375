"""GB 11643 resident ID numbers and card validity checks, with stable rejection reasons."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from device.errors import CardReaderError
from device.redact import mask_id

LONG_TERM = "长期"
ID_LENGTH = 18
# Full-width digits and X (as some readers and input methods produce them) map to ASCII.
_TO_ASCII = {0xFF10 + i: ord("0") + i for i in range(10)} | {
    0xFF38: ord("X"), 0xFF58: ord("X"), ord("x"): ord("X")}
_DIGITS = frozenset("0123456789")


class IdDigitError(ValueError):
    """An ID number holds a character that is neither an ASCII nor a full-width digit (or X
    last); the message gives its position only, never the number."""


class Reason(StrEnum):
    """Why a card is refused; the values are stable machine-readable codes."""

    ID_FORMAT = "id_format"
    ID_CHECK_DIGIT = "id_check_digit"
    ID_BIRTH_DATE = "id_birth_date"
    ID_REGION = "id_region"
    BIRTH_MISMATCH = "birth_mismatch"
    BAD_VALIDITY = "bad_validity"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


class CardRejected(CardReaderError):
    """A card was read but cannot be used; `reason` is a Reason code."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


def normalise_id_number(text: str) -> str:
    """The number in ASCII (full-width digits and X mapped, x upper-cased): 17 digits and a
    digit or X. IdDigitError for anything else: superscripts, other scripts' digits, spaces."""
    number = text.translate(_TO_ASCII)
    if len(number) != ID_LENGTH:
        raise IdDigitError(f"an ID number has {ID_LENGTH} characters, not {len(number)}")
    for index, char in enumerate(number):
        allowed = _DIGITS | {"X"} if index == ID_LENGTH - 1 else _DIGITS
        if char not in allowed:
            raise IdDigitError(f"character {index + 1} of the ID number is not a digit")
    return number


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError("need exactly 17 digits")
    return str(ric.calc_check_digit(first17 + "0"))


def validate_id_number(number: str, today: dt.date) -> str:
    """Return the normalised number or raise CardRejected (format, check digit, birth, region)."""
    try:
        compact = normalise_id_number(number)
    except IdDigitError as exc:
        raise CardRejected(Reason.ID_FORMAT, str(exc)) from None
    masked = mask_id(compact)
    try:
        if compact[-1] != ric.calc_check_digit(compact):
            raise CardRejected(Reason.ID_CHECK_DIGIT, f"{masked} has a wrong check digit")
        birth = ric.get_birth_date(compact)
    except stdnum_errors.ValidationError as exc:
        raise CardRejected(Reason.ID_BIRTH_DATE, f"{masked} has no valid birth date") from exc
    if not dt.date(1900, 1, 1) <= birth <= today:
        raise CardRejected(Reason.ID_BIRTH_DATE, f"{masked} has an impossible birth date")
    try:
        ric.get_birth_place(compact)
    except (stdnum_errors.ValidationError, KeyError) as exc:
        raise CardRejected(Reason.ID_REGION, f"{masked} has an unknown region code") from exc
    return compact


def parse_date(text: str) -> dt.date:
    """A YYYYMMDD date; ValueError otherwise."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"not a YYYYMMDD date: {text!r}")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def check_validity(valid_from: str, valid_until: str, today: dt.date) -> None:
    """Raise CardRejected unless today lies within the card's validity (LONG_TERM allowed)."""
    try:
        start = parse_date(valid_from)
        end = None if valid_until == LONG_TERM else parse_date(valid_until)
    except ValueError as exc:
        raise CardRejected(Reason.BAD_VALIDITY, str(exc)) from exc
    if end is not None and end < start:
        raise CardRejected(Reason.BAD_VALIDITY, f"ends {end} before it starts {start}")
    if today < start:
        raise CardRejected(Reason.NOT_YET_VALID, f"valid only from {start}")
    if end is not None and today > end:
        raise CardRejected(Reason.EXPIRED, f"expired on {end}")
