"""Fan-out of UI views to the page's event streams: one bounded queue per client.

A view is the whole screen state, so when a slow client's queue is full its oldest view is dropped
(and counted): the page only ever needs the newest one. The latest view is kept for clients that
connect (or reconnect) later.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Close:
    """Put into a client's queue to end its stream."""


@dataclass(eq=False, slots=True)
class Client:
    queue: queue.Queue[tuple[int, dict[str, Any]] | Close]
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, item: tuple[int, dict[str, Any]] | Close) -> bool:
        """Put without waiting; drop the oldest item when full. True if something was dropped."""
        with self.lock:
            dropped = False
            while True:
                try:
                    self.queue.put_nowait(item)
                    return dropped
                except queue.Full:
                    try:
                        self.queue.get_nowait()
                        self.dropped += 1
                        dropped = True
                    except queue.Empty:
                        continue

    def next(self, timeout_s: float) -> tuple[int, dict[str, Any]] | Close | None:
        try:
            return self.queue.get(timeout=timeout_s)
        except queue.Empty:
            return None


class ViewHub:
    def __init__(self, queue_size: int, max_clients: int) -> None:
        self._queue_size = queue_size
        self._max_clients = max_clients
        self._lock = threading.Lock()
        self._clients: list[Client] = []
        self._latest: tuple[int, dict[str, Any]] | None = None
        self._sequence = 0
        self.published = 0
        self.dropped = 0
        self.rejected = 0
        self.closed = False

    def attach(self) -> Client | None:
        """A new client queue primed with the latest view, or None when there are too many."""
        with self._lock:
            if self.closed or len(self._clients) >= self._max_clients:
                self.rejected += 1
                return None
            client = Client(queue.Queue(maxsize=self._queue_size))
            if self._latest is not None:
                client.offer(self._latest)
            self._clients.append(client)
            return client

    def detach(self, client: Client) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def publish(self, view: dict[str, Any]) -> int:
        """Send a view to every client without waiting; returns its sequence number."""
        with self._lock:
            self._sequence += 1
            item = (self._sequence, view)
            self._latest = item
            self.published += 1
            clients = list(self._clients)
        for client in clients:
            if client.offer(item):
                with self._lock:
                    self.dropped += 1
        return item[0]

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self._latest is None else self._latest[1]

    def close_all(self) -> None:
        """End every stream (used when the server stops) and refuse new ones."""
        with self._lock:
            self.closed = True
            clients = list(self._clients)
        for client in clients:
            client.offer(Close())

    def reopen(self) -> None:
        with self._lock:
            self.closed = False

    def status(self) -> dict[str, int]:
        with self._lock:
            return {
                "clients": len(self._clients),
                "views_published": self.published,
                "views_dropped": self.dropped,
                "clients_rejected": self.rejected,
            }
