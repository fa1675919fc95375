"""Adapter from the card reader's events to the daemon's EventBus (device/events.py).

A refused card becomes device.events.CardRefused; reader errors become ComponentFailed.
"""

from __future__ import annotations

from device import events as bus_events
from device.cardreader.events import (
    CardInserted,
    CardRefused,
    CardRemoved,
    EventSink,
    ReaderError,
    ReaderEvent,
)


def to_bus_event(event: ReaderEvent) -> bus_events.Event:
    """The device.events counterpart of a card-reader event."""
    if isinstance(event, CardInserted):
        return bus_events.CardInserted(event.card)
    if isinstance(event, CardRemoved):
        return bus_events.CardRemoved()
    if isinstance(event, CardRefused):
        return bus_events.CardRefused(event.reason)
    assert isinstance(event, ReaderError)
    return bus_events.ComponentFailed("cardreader", f"{event.code}: {event.detail}")


def bus_sink(bus: bus_events.EventBus, timeout_s: float = 5.0) -> EventSink:
    """A sink for CardReader that posts to the bus (waits up to timeout_s, then the bus's
    ordered overflow: a CardRemoved reaches the core loop after a burst; an event lost only when
    the overflow is full too is counted in the bus status and never raises in the reader)."""

    def post(event: ReaderEvent) -> None:
        bus.post(to_bus_event(event), timeout_s=timeout_s)

    return post
