"""Events that hardware and network threads post to the core loop, and the bounded bus they use.

The card reader's events (device/cardreader/events.py) are posted as they are."""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device.camera.base import Frame
from device.camera.identity import CameraCheck
from device.cardreader.events import CardInserted, CardRefused, CardRemoved

log = logging.getLogger(__name__)


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
    notice_version: str = ""  # the consent notice the form showed (device/ui/texts.py)


@dataclass(frozen=True, slots=True)
class ConsentAnswered:
    """The person's answer on the kiosk's consent screen (card sessions), from the page."""

    accepted: bool
    notice_version: str
    assisted: bool = False


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
    | ConsentAnswered
    | Call
    | CameraChecked
)


class EventBus:
    """One bounded queue into the core loop, which never raises at the poster.

    Frames are best-effort: when the queue is above `frame_watermark` a frame is dropped and
    counted. Every other event waits for room (up to its timeout); if there is still none it
    goes to a small overflow that the core loop drains in order before anything newer (so a
    CardRemoved is never lost behind a burst and never overtakes the events before it). Only
    when the overflow is full too is an event lost: counted by kind, logged, reported in
    status(), and post() returns False so the poster can say so in its own status.
    """

    def __init__(self, maxsize: int, overflow: int = 64) -> None:
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=maxsize)
        self._watermark = max(1, maxsize // 4)
        self._lock = threading.Lock()
        self._overflow: collections.deque[Event] = collections.deque()
        self._overflow_max = overflow
        self.frames_dropped = 0
        self.events_posted = 0
        self.events_deferred = 0
        self.events_lost: dict[str, int] = {}

    def post_frame(self, frame: Frame) -> bool:
        if self._queue.qsize() >= self._watermark or self._overflow:
            with self._lock:
                self.frames_dropped += 1
            return False
        return self.post(FrameArrived(frame), timeout_s=0.0)

    def post(self, event: Event, timeout_s: float = 5.0) -> bool:
        """Queue an event; False (counted) only if it was lost. Never raises queue.Full."""
        if not self._overflow and self._put(event, timeout_s):
            with self._lock:
                self.events_posted += 1
            return True
        if isinstance(event, FrameArrived):
            with self._lock:
                self.frames_dropped += 1
            return False
        with self._lock:
            if len(self._overflow) < self._overflow_max:
                self._overflow.append(event)
                self.events_deferred += 1
                return True
            kind = type(event).__name__
            self.events_lost[kind] = self.events_lost.get(kind, 0) + 1
        log.error("event bus: full, %s lost (%d lost so far)", kind, self.lost())
        return False

    def _put(self, event: Event, timeout_s: float) -> bool:
        try:
            if timeout_s <= 0:
                self._queue.put_nowait(event)
            else:
                self._queue.put(event, timeout=timeout_s)
        except queue.Full:
            return False
        return True

    def get(self, timeout_s: float) -> Event | None:
        self._refill()
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def _refill(self) -> None:
        """Move overflowed events into the queue, oldest first, while there is room."""
        with self._lock:
            while self._overflow:
                try:
                    self._queue.put_nowait(self._overflow[0])
                except queue.Full:
                    return
                self._overflow.popleft()
                self.events_posted += 1

    def lost(self) -> int:
        return sum(self.events_lost.values())

    def status(self) -> dict[str, Any]:
        return {
            "depth": self._queue.qsize(),
            "overflow": len(self._overflow),
            "frames_dropped": self.frames_dropped,
            "events_posted": self.events_posted,
            "events_deferred": self.events_deferred,
            "events_lost": dict(self.events_lost),
        }
