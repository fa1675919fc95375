"""Card-reader events reach the daemon's real EventBus as its own event types."""

from __future__ import annotations

from device import events as bus_events
from device.cardreader.bus import bus_sink
from device.cardreader.card import decode_card, encode_text
from device.cardreader.events import CardInserted, CardRefused, CardRemoved, ReaderError


def test_events_are_translated_for_the_bus(fields: dict[str, str]) -> None:
    bus = bus_events.EventBus(maxsize=16)
    sink = bus_sink(bus)
    card = decode_card(encode_text(fields), bytes(1024))
    sink(CardInserted(card, 1.0))
    sink(CardRefused("expired", "expired on 2025-01-01", 2.0))
    sink(ReaderError("link_lost", "read failed", 3.0))
    sink(CardRemoved(4.0))
    got = [bus.get(timeout_s=0.1) for _ in range(4)]
    assert got == [
        bus_events.CardInserted(card),
        bus_events.CardRefused("expired"),
        bus_events.ComponentFailed("cardreader", "link_lost: read failed"),
        bus_events.CardRemoved(),
    ]
    assert bus.status()["events_posted"] == 4
