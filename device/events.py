"""Events that hardware and network threads post to the core loop, and the bounded bus they use.

The card reader's events (device/cardreader/events.py) are posted as they are."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device.camera.base import Frame
from device.camera.identity import CameraCheck
from device.cardreader.events import CardInserted, CardRefused, CardRemoved


@dataclass(frozen=True, slots=True)
class FrameArrived:
    frame: Frame


@dataclass(frozen=True, slots=True)
class ComponentFailed:
    component: str
    error: str


@dataclass(frozen=True, slots=True)
class CameraChecked:
    """The camera's identity after each (re)start, and why it is refused (empty: trusted)."""

    check: CameraCheck


@dataclass(frozen=True, slots=True)
class WorkerInput:
    """ID number keyed in by a home-visit worker, with the person's consent answer."""

    id_number: str
    operator_id: str
    consent: bool


@dataclass(frozen=True, slots=True)
class Call:
    """Run `function` on the core loop (used by the fleet channel) and hand back its result."""

    function: Callable[[], object]
    reply: queue.Queue[tuple[bool, Any]]  # (True, result) or (False, the exception)


__all__ = ["CardInserted", "CardRefused", "CardRemoved"]  # the card reader's, on this bus

Event = (
    FrameArrived
    | CardInserted
    | CardRemoved
    | CardRefused
    | ComponentFailed
    | WorkerInput
    | Call
    | CameraChecked
)


class EventBus:
    """One bounded queue into the core loop.

    Frames are best-effort: when the queue is above `frame_watermark` a frame is dropped and
    counted. Every other event waits for room (with a timeout) and is never dropped silently.
    """

    def __init__(self, maxsize: int) -> None:
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=maxsize)
        self._watermark = max(1, maxsize // 4)
        self._lock = threading.Lock()
        self.frames_dropped = 0
        self.events_posted = 0

    def post_frame(self, frame: Frame) -> bool:
        if self._queue.qsize() >= self._watermark:
            with self._lock:
                self.frames_dropped += 1
            return False
        return self.post(FrameArrived(frame), timeout_s=0.0)

    def post(self, event: Event, timeout_s: float = 5.0) -> bool:
        try:
            if timeout_s <= 0:
                self._queue.put_nowait(event)
            else:
                self._queue.put(event, timeout=timeout_s)
        except queue.Full:
            if isinstance(event, FrameArrived):
                with self._lock:
                    self.frames_dropped += 1
                return False
            raise
        with self._lock:
            self.events_posted += 1
        return True

    def get(self, timeout_s: float) -> Event | None:
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def status(self) -> dict[str, int]:
        return {
            "depth": self._queue.qsize(),
            "frames_dropped": self.frames_dropped,
            "events_posted": self.events_posted,
        }
