"""UI views: check a view from the core loop against the contract and add what the page shows.

A view is `{"state", "code", "zh", "en", "countdown_s", "flash_rgb", "progress", "result",
"slow", "guide"}` (docs/CONTRIBUTING.md; `slow` and `guide` may be absent). `prepare()` returns a
new dict with every key present, texts filled in from the catalogue when the view carries only a
code, and for `decided` a `screen` entry with the result screen (title, reasons, next step). It
never changes the caller's dict.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from device.ui.texts import PAGE, Catalogue, result_screen

STATES = frozenset(
    {"idle", "identified", "guiding", "challenge", "flash", "matching", "decided"}
)
KEYS = ("state", "code", "zh", "en", "countdown_s", "flash_rgb", "progress", "result",
        "slow", "guide")
GUIDE_KEYS = frozenset({"arrow", "mirror_arrow", "clear", "repeat", "paused"})


class ViewError(ValueError):
    """A view that breaks the UI view contract."""


def make_view(
    state: str,
    code: str,
    zh: str = "",
    en: str = "",
    countdown_s: float | None = None,
    flash_rgb: list[int] | None = None,
    progress: float | None = None,
    result: dict[str, Any] | None = None,
    slow: bool = False,
    guide: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A view with every key of the contract (the one place views are built). `slow`: the
    session is in slow pace (speak slower and louder); `guide`: how to show a challenge
    action (device/session/decisions.py prompt_view)."""
    return {"state": state, "code": code, "zh": zh, "en": en, "countdown_s": countdown_s,
            "flash_rgb": flash_rgb, "progress": progress, "result": result, "slow": slow,
            "guide": guide}


def prepare(view: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """Validate and complete a view; raise ViewError naming the bad key."""
    unknown = set(view) - set(KEYS)
    if unknown:
        raise ViewError(f"unknown view keys: {sorted(unknown)}")
    state = view.get("state")
    if state not in STATES:
        raise ViewError(f"state {state!r} is not one of {sorted(STATES)}")
    code = _text(view, "code")
    zh, en = _text(view, "zh"), _text(view, "en")
    if code and not zh and code in catalogue:
        zh, en = catalogue[code]
    if state == "idle" and not zh:
        zh, en = PAGE["idle_zh"], PAGE["idle_en"]
    out: dict[str, Any] = {
        "state": state,
        "code": code,
        "zh": zh,
        "en": en,
        "countdown_s": _countdown(view.get("countdown_s")),
        "flash_rgb": _rgb(view.get("flash_rgb")) if state == "flash" else None,
        "progress": _progress(view.get("progress")),
        "result": None,
        "slow": bool(view.get("slow", False)),
        "guide": _guide(view.get("guide")),
    }
    if state == "flash" and out["flash_rgb"] is None:
        raise ViewError("a flash view needs flash_rgb")
    if state == "decided":
        out["result"] = _result(view.get("result"))
        out["screen"] = result_screen(
            out["result"]["decision"], out["result"]["reasons"], catalogue
        )
    return out


def _guide(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - GUIDE_KEYS:
        raise ViewError(f"guide must be a mapping of {sorted(GUIDE_KEYS)}")
    if value.get("arrow") not in (None, "left", "right"):
        raise ViewError("guide.arrow must be left, right or null")
    return dict(value)


def _text(view: Mapping[str, Any], key: str) -> str:
    value = view.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ViewError(f"{key} must be a string")
    return value


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ViewError(f"{key} must be a number")
    number = float(value)  # numpy scalars too
    if not math.isfinite(number):
        raise ViewError(f"{key} must be finite")
    return number


def _countdown(value: Any) -> float | None:
    seconds = _number(value, "countdown_s")
    if seconds is not None and seconds < 0:
        raise ViewError("countdown_s must not be negative")
    return seconds


def _progress(value: Any) -> float | None:
    fraction = _number(value, "progress")
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise ViewError("progress must be between 0 and 1")
    return fraction


def _rgb(value: Any) -> list[int] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ViewError("flash_rgb must be three integers")
    channels = []
    for channel in value:
        if isinstance(channel, bool) or not isinstance(channel, numbers.Integral):
            raise ViewError("flash_rgb channels must be integers 0-255")
        if not 0 <= int(channel) <= 255:
            raise ViewError("flash_rgb channels must be integers 0-255")
        channels.append(int(channel))
    return channels


def _result(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ViewError("a decided view needs result {decision, reasons}")
    decision = value.get("decision")
    reasons = value.get("reasons", [])
    if not isinstance(decision, str) or not decision:
        raise ViewError("result.decision must be a string")
    if not isinstance(reasons, list | tuple) or not all(isinstance(r, str) for r in reasons):
        raise ViewError("result.reasons must be a list of codes")
    return {"decision": decision, "reasons": list(reasons)}
