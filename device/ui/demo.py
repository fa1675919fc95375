"""A scripted session for looking at the kiosk without a camera or card (synthetic views only)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from device.ui.views import make_view

Publish = Callable[[Mapping[str, Any]], object]


def _view(state: str, code: str, **extra: Any) -> dict[str, Any]:
    return make_view(state, code, **extra)


def demo_script() -> list[tuple[float, dict[str, Any]]]:
    """(seconds to show, view) pairs: one passing session, then one referred to a window.

    Views carry message codes only; the kiosk fills in the words from the catalogue and falls
    back to the zh/en given here when the catalogue lacks a code.
    """
    blink = _view("challenge", "liveness_blink", zh="请眨眨眼", en="Please blink",
                  countdown_s=4, progress=0.5)
    return [
        (3.0, _view("idle", "insert_card")),
        (2.0, _view("identified", "card_read", progress=0.1)),
        (3.0, _view("guiding", "off_centre", zh="请把脸移到框内", en="Move into the oval",
                    progress=0.25)),
        (4.0, blink),
        (0.6, _view("flash", "liveness_hold_still", zh="请保持不动", flash_rgb=[255, 64, 64])),
        (0.6, _view("flash", "liveness_hold_still", zh="请保持不动", flash_rgb=[64, 255, 64])),
        (0.6, _view("flash", "liveness_hold_still", zh="请保持不动", flash_rgb=[64, 64, 255])),
        (2.0, _view("matching", "matching", progress=0.9)),
        (5.0, _view("decided", "pass", result={"decision": "pass", "reasons": []})),
        (3.0, _view("idle", "insert_card")),
        (5.0, _view("decided", "refer",
                    result={"decision": "refer", "reasons": ["match_below_threshold"]})),
    ]


def run_demo(publish: Publish, stop: threading.Event, loop: bool = True) -> None:
    """Publish the script until `stop` is set (every wait is on the event, never a bare sleep)."""
    while not stop.is_set():
        for seconds, view in demo_script():
            publish(view)
            if stop.wait(seconds):
                return
        if not loop:
            return
