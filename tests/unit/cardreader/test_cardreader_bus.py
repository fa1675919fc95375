"""Card-reader events reach the daemon's real EventBus as they are (one type per fact)."""

from __future__ import annotations

from device import events as bus_events
from device.cardreader.bus import bus_sink
from device.cardreader.card import decode_card, encode_text
from device.cardreader.events import CardInserted, CardRefused, CardRemoved, ReaderError


def test_card_events_travel_as_they_are(fields: dict[str, str]) -> None:
    bus = bus_events.EventBus(maxsize=16)
    sink = bus_sink(bus)
    card = decode_card(encode_text(fields), bytes(1024))
    sink(CardInserted(card, 1.0))
    sink(CardRefused("expired", "expired on 2025-01-01", 2.0))
    sink(ReaderError("link_lost", "read failed", 3.0))
    sink(CardRemoved(4.0))
    got = [bus.get(timeout_s=0.1) for _ in range(4)]
    assert got == [
        CardInserted(card, 1.0),
        CardRefused("expired", "expired on 2025-01-01", 2.0),
        bus_events.ComponentFailed("cardreader", "link_lost: read failed"),
        CardRemoved(4.0),
    ]
    assert bus_events.CardRemoved is CardRemoved
    assert bus.status()["events_posted"] == 4
