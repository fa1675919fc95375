"""Fictional card fields shared by the card-reader unit tests."""

from __future__ import annotations

import pytest

FICTIONAL = {
    "name": "李建国",
    "sex_code": "1",
    "nation_code": "01",
    "birth_date": "19580601",
    "address": "北京市东城区样本大街22号",
    "id_number": "110101195806010153",
    "authority": "北京市公安局东城分局",
    "valid_from": "20180301",
    "valid_until": "20380301",
}


@pytest.fixture
def fields() -> dict[str, str]:
    return dict(FICTIONAL)
