"""Fictional ID cards and fast card-reader settings shared by the card-reader tests."""

from __future__ import annotations

from typing import Any

from device.cardreader.settings import CardReaderSettings

# A fictional person (valid check digit, born 1958-06-01, card valid for life).
CARD_FIELDS = {
    "name": "李建国",
    "sex_code": "1",
    "nation_code": "01",
    "birth_date": "19580601",
    "address": "北京市东城区样本大街22号",
    "id_number": "110101195806010153",
    "authority": "北京市公安局东城分局",
    "valid_from": "20180301",
    "valid_until": "长期",
}
# Timeouts and backoff small enough for tests against the pty simulator.
FAST_READER = {
    "read_timeout_s": 0.2,
    "connect_timeout_s": 2.0,
    "max_retries": 2,
    "retry_backoff_s": 0.01,
    "max_backoff_s": 0.05,
    "poll_interval_s": 0.02,
}


def card_fields(**changes: str) -> dict[str, str]:
    """The fictional card's fields with some changed (another person, another validity)."""
    return {**CARD_FIELDS, **changes}


def fast_reader(port: str = "", **changes: Any) -> CardReaderSettings:
    return CardReaderSettings.model_validate({**FAST_READER, "port": port, **changes})
