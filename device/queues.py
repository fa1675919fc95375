"""Bounded queues where the newest item matters most (frames, spoken prompts)."""

from __future__ import annotations

import queue
from typing import TypeVar

T = TypeVar("T")


def put_newest(bounded: queue.Queue[T], item: T) -> int:
    """Put item without blocking; when full, drop the oldest items first. Returns how many were
    dropped (the caller counts them: drops are never silent)."""
    dropped = 0
    while True:
        try:
            bounded.put_nowait(item)
            return dropped
        except queue.Full:
            try:
                bounded.get_nowait()
                dropped += 1
            except queue.Empty:
                continue
