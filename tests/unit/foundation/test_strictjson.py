"""The strict JSON loader for inbound data: what the standard library lets through is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.strictjson import StrictJSONError, bounded_int, bounded_number, loads


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('{"iat": 1, "iat": 2}', "duplicate"),
        ('{"a": {"b": 1, "b": 1}}', "duplicate"),
        ('{"iat": NaN}', "NaN"),
        ('{"exp": Infinity}', "Infinity"),
        ('[-Infinity]', "-Infinity"),
        ('{"exp": 1e400}', "finite"),
        ('{"seq": 9007199254740993}', "2**53"),
        ('{"seq": 9223372036854775808}', "2**53"),
        ('{"seq": -9007199254740993}', "2**53"),
        ('{"seq": ' + "9" * 5000 + "}", "2**53"),
        ('{"name": "\\ud800"}', "surrogate"),
        ('{"\\udfff": 1}', "surrogate"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
        (b'{"a": "\xff"}', "not JSON"),
        ("{", "not JSON"),
    ],
)
def test_json_the_standard_library_accepts_is_refused_with_the_rule(text: str, rule: str) -> None:
    with pytest.raises(StrictJSONError, match=rule.replace("*", r"\*")):
        loads(text)


def test_values_within_the_rules_parse_as_the_standard_library_does() -> None:
    text = '{"iat": 9007199254740992, "f": -0.5, "s": "中文\\u00e9", "l": [true, null, -3]}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


def test_the_error_never_carries_the_refused_value() -> None:
    with pytest.raises(StrictJSONError) as caught:
        loads('{"id": "110101199003070153", "id": "x"}')
    assert "1101" not in str(caught.value)


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
))
def test_any_strict_document_round_trips(value: object) -> None:
    # hypothesis' text() never draws surrogates, so every drawn document is strict JSON
    assert loads(json.dumps(value)) == value
    assert loads(json.dumps(value, ensure_ascii=False).encode()) == value


def test_field_bounds() -> None:
    assert bounded_int(0) and bounded_int(2**53)
    assert not bounded_int(-1) and not bounded_int(2**53 + 1) and not bounded_int(True)
    assert not bounded_int(1.0)
    assert bounded_number(1.5) and not bounded_number(float("nan"))
    assert not bounded_number(float("inf")) and not bounded_number(-0.1)
