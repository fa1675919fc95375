"""The bounded event sink: waits a little, then counts and logs what it had to drop."""

from __future__ import annotations

import logging
import queue

import pytest

from device.cardreader.events import CardRemoved, QueueSink, ReaderEvent


def test_queue_sink_counts_drops_when_full(caplog: pytest.LogCaptureFixture) -> None:
    events: queue.Queue[ReaderEvent] = queue.Queue(maxsize=1)
    sink = QueueSink(events, put_timeout_s=0.01)
    sink(CardRemoved(1.0))
    with caplog.at_level(logging.ERROR):
        sink(CardRemoved(2.0))
    assert sink.dropped == 1 and "event queue full" in caplog.text
    assert events.get_nowait() == CardRemoved(1.0)
