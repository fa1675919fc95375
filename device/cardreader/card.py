"""The decoded identity card: the 256-byte UCS-2LE text block and the WLT photo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from device.cardreader.idnumber import (
    CardRejected,
    IdDigitError,
    Reason,
    check_validity,
    normalise_id_number,
    parse_date,
    validate_id_number,
)
from device.cardreader.protocol import PHOTO_LEN, TEXT_LEN, ProtocolError
from device.redact import mask_id

# (field name, width in bytes) in the order of the text block; UCS-2LE, space padded.
TEXT_LAYOUT: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex_code", 2),
    ("nation_code", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("reserved", 36),
)
SEX_NAMES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}


def mask_name(name: str) -> str:
    """Keep the first character only: 张三丰 -> 张**."""
    return name[:1] + "*" * max(len(name) - 1, 0)


@dataclass(frozen=True, slots=True, repr=False)
class IdCard:
    name: str
    sex_code: str
    nation_code: str
    birth_date: str
    address: str
    id_number: str
    authority: str
    valid_from: str
    valid_until: str
    reserved: str = ""
    photo_wlt: bytes = field(default=b"", compare=False)
    fingerprint: bytes | None = field(default=None, compare=False)

    @property
    def sex(self) -> str:
        return SEX_NAMES.get(self.sex_code, "未知")

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def __repr__(self) -> str:
        return (
            f"IdCard(name={self.masked_name!r}, sex={self.sex_code!r}, "
            f"nation={self.nation_code!r}, id_number={self.masked_id!r}, "
            f"valid={self.valid_from}-{self.valid_until}, photo={len(self.photo_wlt)} bytes)"
        )

    __str__ = __repr__

    def summary(self) -> dict[str, str]:
        """Fields safe to print or log: name and number masked, address left out."""
        return {
            "name": self.masked_name,
            "sex": self.sex,
            "nation_code": self.nation_code,
            "birth_date": self.birth_date,
            "id_number": self.masked_id,
            "authority": self.authority,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "photo_bytes": str(len(self.photo_wlt)),
        }


def decode_text(text: bytes) -> dict[str, str]:
    """Split the 256-byte text block into fields with trailing spaces (and NULs) stripped."""
    if len(text) != TEXT_LEN:
        raise ProtocolError(f"text block is {len(text)} bytes, not {TEXT_LEN}")
    fields: dict[str, str] = {}
    offset = 0
    for name, width in TEXT_LAYOUT:
        raw = text[offset : offset + width]
        offset += width
        try:
            fields[name] = raw.decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"text field {name} is not UCS-2") from exc
    return fields


def encode_text(fields: Mapping[str, str]) -> bytes:
    """Build a 256-byte text block from fields (missing ones blank); the simulator's encoder."""
    parts = []
    for name, width in TEXT_LAYOUT:
        raw = fields.get(name, "").encode("utf-16-le")
        if len(raw) > width:
            raise ValueError(f"field {name} is longer than {width // 2} characters")
        parts.append(raw + " ".encode("utf-16-le") * ((width - len(raw)) // 2))
    return b"".join(parts)


def decode_card(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> IdCard:
    """An IdCard from the raw blocks of a read response (not yet validated)."""
    if len(photo) not in (0, PHOTO_LEN):
        raise ProtocolError(f"photo is {len(photo)} bytes, not {PHOTO_LEN}")
    f = decode_text(text)
    try:
        id_number = normalise_id_number(f["id_number"])
    except IdDigitError as exc:
        raise ProtocolError(f"text field id_number: {exc}") from None
    return IdCard(
        name=f["name"],
        sex_code=f["sex_code"],
        nation_code=f["nation_code"],
        birth_date=f["birth_date"],
        address=f["address"],
        id_number=id_number,
        authority=f["authority"],
        valid_from=f["valid_from"],
        valid_until=f["valid_until"],
        reserved=f["reserved"],
        photo_wlt=photo,
        fingerprint=fingerprint,
    )


def validate_card(card: IdCard, today: dt.date) -> IdCard:
    """Return the card if usable today; raise CardRejected with a Reason otherwise."""
    number = validate_id_number(card.id_number, today)
    try:
        birth = parse_date(card.birth_date)
    except ValueError as exc:
        raise CardRejected(Reason.BIRTH_MISMATCH, "birth date field unreadable") from exc
    if birth.strftime("%Y%m%d") != number[6:14]:
        raise CardRejected(Reason.BIRTH_MISMATCH, "birth date differs from the ID number")
    check_validity(card.valid_from, card.valid_until, today)
    return card
