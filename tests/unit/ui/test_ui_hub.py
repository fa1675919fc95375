"""The view fan-out: bounded per-client queues that keep the newest views."""

from __future__ import annotations

from device.ui.hub import Close, ViewHub


def test_a_slow_client_keeps_the_newest_views_and_drops_are_counted() -> None:
    hub = ViewHub(queue_size=2, max_clients=4)
    client = hub.attach()
    assert client is not None
    for n in range(5):
        hub.publish({"n": n})
    got = [client.next(0.1), client.next(0.1), client.next(0.01)]
    assert [item[1]["n"] for item in got[:2] if isinstance(item, tuple)] == [3, 4]
    assert got[2] is None
    assert hub.status()["views_dropped"] == 3
    assert client.dropped == 3


def test_a_late_client_gets_the_latest_view_first() -> None:
    hub = ViewHub(queue_size=4, max_clients=4)
    hub.publish({"n": 1})
    hub.publish({"n": 2})
    client = hub.attach()
    assert client is not None
    item = client.next(0.1)
    assert isinstance(item, tuple) and item == (2, {"n": 2})


def test_client_limit_and_close() -> None:
    hub = ViewHub(queue_size=1, max_clients=1)
    first = hub.attach()
    assert first is not None
    assert hub.attach() is None
    assert hub.status()["clients_rejected"] == 1
    hub.publish({"n": 1})
    hub.close_all()
    assert isinstance(first.next(0.1), Close)  # the close is never lost, even on a full queue
    hub.detach(first)
    assert hub.attach() is None  # closed until reopened
    hub.reopen()
    assert hub.attach() is not None
