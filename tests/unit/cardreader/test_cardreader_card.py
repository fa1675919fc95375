"""The text block codec, IdCard masking, ID number and validity checks."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from device.cardreader.card import (
    IdCard,
    decode_card,
    decode_text,
    encode_text,
    mask_name,
    validate_card,
)
from device.cardreader.idnumber import (
    LONG_TERM,
    CardRejected,
    Reason,
    check_digit,
    check_validity,
    validate_id_number,
)
from device.cardreader.protocol import ProtocolError

TODAY = dt.date(2026, 11, 25)


def make_card(fields: dict[str, str], **changes: str) -> IdCard:
    return decode_card(encode_text({**fields, **changes}), bytes(1024))


def test_text_block_round_trip_strips_padding(fields: dict[str, str]) -> None:
    block = encode_text(fields)
    assert len(block) == 256
    decoded = decode_text(block)
    assert {k: decoded[k] for k in fields} == fields
    assert decoded["reserved"] == ""
    # name is 15 UCS-2 characters padded with spaces, little-endian
    assert block[:6] == "李建国".encode("utf-16-le")
    assert block[6:8] == b"\x20\x00"


def test_field_offsets_follow_the_card_layout(fields: dict[str, str]) -> None:
    block = encode_text(fields)
    assert block[30:32].decode("utf-16-le") == "1"
    assert block[32:36].decode("utf-16-le") == "01"
    assert block[36:52].decode("utf-16-le") == "19580601"
    assert block[122:158].decode("utf-16-le") == fields["id_number"]
    assert block[188:204].decode("utf-16-le") == "20180301"
    assert block[204:220].decode("utf-16-le") == "20380301"


def test_long_term_validity_is_decoded(fields: dict[str, str]) -> None:
    card = make_card(fields, valid_until=LONG_TERM)
    assert card.valid_until == "长期"
    assert validate_card(card, TODAY) is card


def test_overlong_field_and_bad_block_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        encode_text({**fields, "name": "名" * 16})
    with pytest.raises(ProtocolError):
        decode_text(bytes(255))
    with pytest.raises(ProtocolError):
        decode_text(b"\x00\xd8" + bytes(254))  # lone surrogate: not UCS-2
    with pytest.raises(ProtocolError):
        decode_card(encode_text(fields), bytes(100))


def test_repr_masks_number_and_name(
    fields: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    card = make_card(fields)
    text = repr(card)
    assert fields["id_number"] not in text and "1101**********0153" in text
    assert "李建国" not in text and "李**" in text
    assert fields["address"] not in text
    assert str(card) == text
    assert fields["id_number"] not in str(card.summary())
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("card %s", card)
    assert fields["id_number"] not in caplog.text


def test_sex_names_and_mask_name(fields: dict[str, str]) -> None:
    assert make_card(fields).sex == "男"
    assert make_card(fields, sex_code="2").sex == "女"
    assert mask_name("王秀英") == "王**" and mask_name("") == ""


def test_check_digit_matches_gb11643() -> None:
    assert check_digit("11010119580601015") == "3"
    assert check_digit("11010119490101123") == "X"
    with pytest.raises(ValueError):
        check_digit("123")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110101195806010154", Reason.ID_CHECK_DIGIT),
        ("11010119580601015", Reason.ID_FORMAT),
        ("1101011958060101A3", Reason.ID_FORMAT),
        ("110101195802300150", Reason.ID_BIRTH_DATE),  # 30 February
        ("110101203001010010", Reason.ID_BIRTH_DATE),  # born in the future
        ("990101195806010152", Reason.ID_REGION),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(number: str, reason: Reason) -> None:
    fixed = number
    if reason in (Reason.ID_BIRTH_DATE, Reason.ID_REGION):
        fixed = number[:17] + check_digit(number[:17])  # only the named part is wrong
    with pytest.raises(CardRejected) as info:
        validate_id_number(fixed, TODAY)
    assert info.value.reason == reason
    assert fixed not in str(info.value)


def test_valid_numbers_pass() -> None:
    assert validate_id_number("11010119490101123x", TODAY) == "11010119490101123X"
    assert validate_id_number("110101195806010153", TODAY) == "110101195806010153"


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("20050101", "20250101", Reason.EXPIRED),
        ("20270101", "20470101", Reason.NOT_YET_VALID),
        ("2005010", "20250101", Reason.BAD_VALIDITY),
        ("20200101", "20100101", Reason.BAD_VALIDITY),
        ("20200101", "长期期", Reason.BAD_VALIDITY),
    ],
)
def test_validity_period(start: str, end: str, reason: Reason) -> None:
    with pytest.raises(CardRejected) as info:
        check_validity(start, end, TODAY)
    assert info.value.reason == reason


def test_validity_edges() -> None:
    check_validity("20061125", "20261125", TODAY)  # last valid day
    check_validity("20261125", LONG_TERM, TODAY)  # first valid day
    with pytest.raises(CardRejected):
        check_validity("20061124", "20261124", TODAY)


def test_validate_card_checks_everything(fields: dict[str, str]) -> None:
    assert validate_card(make_card(fields), TODAY).id_number == fields["id_number"]
    expired = make_card(fields, valid_from="20050101", valid_until="20250101")
    with pytest.raises(CardRejected) as info:
        validate_card(expired, TODAY)
    assert info.value.reason == Reason.EXPIRED
    mismatch = make_card(fields, birth_date="19580602")
    with pytest.raises(CardRejected) as info:
        validate_card(mismatch, TODAY)
    assert info.value.reason == Reason.BIRTH_MISMATCH
    with pytest.raises(CardRejected) as info:
        validate_card(make_card(fields, id_number="110101195806010154"), TODAY)
    assert info.value.reason == Reason.ID_CHECK_DIGIT
