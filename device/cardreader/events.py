"""Events the card reader posts to the daemon's core loop (which owns all session state).

`CardInserted`, `CardRefused` and `CardRemoved` travel on the core loop's bus as they are
(device/events.py); `CardRemoved` is also the session machine's event. Times are monotonic
seconds (`now_s`, as everywhere in the session)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from device.cardreader.card import IdCard

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CardInserted:
    """A card was read and passed validation (number, birth date, validity)."""

    card: IdCard
    now_s: float


@dataclass(frozen=True, slots=True)
class CardRefused:
    """A card was read but cannot be used; `reason` is a device.cardreader.idnumber.Reason."""

    reason: str
    detail: str
    now_s: float


@dataclass(frozen=True, slots=True)
class CardRemoved:
    now_s: float


@dataclass(frozen=True, slots=True)
class ReaderError:
    """`code`: link_down, link_lost, link_restored, sam_error, read_failed, internal."""

    code: str
    detail: str
    now_s: float


ReaderEvent = CardInserted | CardRefused | CardRemoved | ReaderError
EventSink = Callable[[ReaderEvent], None]


@dataclass
class QueueSink:
    """Post events to a bounded queue, waiting up to put_timeout_s; drops are counted and
    logged, never silent."""

    events: queue.Queue[ReaderEvent]
    put_timeout_s: float = 1.0
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, event: ReaderEvent) -> None:
        try:
            self.events.put(event, timeout=self.put_timeout_s)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            log.error("cardreader: event queue full, dropped %s", type(event).__name__)
