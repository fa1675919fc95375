"""Helpers shared by the kiosk browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 8.0


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = TIMEOUT_S) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


def text_of(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "return e && !e.closest('[hidden]') ? e.textContent.trim() : '';", element_id))


def wait_text(driver: Any, element_id: str, expected: str) -> None:
    wait_until(lambda: expected in text_of(driver, element_id), f"#{element_id} to show {expected}")


def view(state: str, code: str = "", zh: str = "", en: str = "", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "state": state, "code": code, "zh": zh, "en": en, "countdown_s": None,
        "flash_rgb": None, "progress": None, "result": None,
    }
    base.update(extra)
    return base
