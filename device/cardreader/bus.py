"""Adapter from the card reader's events to the daemon's EventBus (device/events.py).

Card events go on the bus as they are; reader errors become ComponentFailed.
"""

from __future__ import annotations

from device import events as bus_events
from device.cardreader.events import EventSink, ReaderError, ReaderEvent


def to_bus_event(event: ReaderEvent) -> bus_events.Event:
    """The bus event for a card-reader event: itself, or ComponentFailed for a reader error."""
    if isinstance(event, ReaderError):
        return bus_events.ComponentFailed("cardreader", f"{event.code}: {event.detail}")
    return event


def bus_sink(bus: bus_events.EventBus, timeout_s: float = 5.0) -> EventSink:
    """A sink for CardReader that posts to the bus (waits up to timeout_s, then the bus's
    ordered overflow: a CardRemoved reaches the core loop after a burst; an event lost only when
    the overflow is full too is counted in the bus status and never raises in the reader)."""

    def post(event: ReaderEvent) -> None:
        bus.post(to_bus_event(event), timeout_s=timeout_s)

    return post
