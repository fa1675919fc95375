"""Fictional card fields shared by the card-reader unit tests."""

from __future__ import annotations

import pytest

from tests.support.cards import card_fields


@pytest.fixture
def fields() -> dict[str, str]:
    return card_fields(valid_until="20380301")
