"""Strict JSON for data from outside the device's trust (fleet commands, bureau messages).

The standard library accepts what RFC 8259 leaves open or forbids: duplicate object keys (the
last one wins, so a signer and a verifier may read different values), NaN, Infinity and
-Infinity (which make every `<` and `>` comparison false), integers of any size (which overflow
SQLite and float conversions later) and lone surrogates such as "\\ud800" (which cannot be
encoded as UTF-8, so cannot be stored). `loads` refuses all of these with StrictJSONError, a
ValueError whose message names the rule, never the offending value. Integers are bounded to
-2**53..2**53 here; `bounded_int` narrows a field further (seq, iat, exp: 0..2**53).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_INT = 2**53  # the largest integer every JSON implementation reads exactly


class StrictJSONError(ValueError):
    """The text is not JSON under the strict rules; the message says which rule failed."""


def _no_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJSONError("duplicate object key")
        result[key] = value
    return result


def _bounded_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError("number out of the finite range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > 17:  # more digits than 2**53 has: refuse before converting
        raise StrictJSONError("integer outside -2**53..2**53")
    value = int(text)
    if not -MAX_INT <= value <= MAX_INT:
        raise StrictJSONError("integer outside -2**53..2**53")
    return value


def _check_strings(value: Any) -> None:
    """Every string and key must encode as UTF-8 (no lone surrogates); iterative, any depth."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise StrictJSONError("string with a lone surrogate") from None
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_constant=_no_constant,
    parse_float=_bounded_float,
    parse_int=_bounded_int,
)


def loads(data: str | bytes | bytearray) -> Any:
    """Parse JSON text (UTF-8 if bytes) under the strict rules; raise StrictJSONError."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = _DECODER.decode(text)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise StrictJSONError(f"not JSON: {type(exc).__name__}") from None
    _check_strings(value)
    return value


def finite_number(value: Any) -> bool:
    """Whether value is a JSON number (not a bool) with a finite value."""
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def bounded_int(value: Any, low: int = 0, high: int = MAX_INT) -> bool:
    """Whether value is an integer (not a bool) within low..high."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def bounded_number(value: Any, low: float = 0.0, high: float = float(MAX_INT)) -> bool:
    """Whether value is a finite JSON number (not a bool) within low..high."""
    return finite_number(value) and low <= value <= high
