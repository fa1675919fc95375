"""The last lines of the log, kept in memory (redacted) for the fleet's logs.tail command."""

from __future__ import annotations

import collections
import logging
import threading

from device.redact import RedactingFilter


class RingHandler(logging.Handler):
    """A bounded in-memory log handler; records pass the ID-number redaction filter first."""

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__(logging.INFO)
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record).splitlines()[0]  # no tracebacks: they may quote data
        with self._guard:
            self._lines.append(line)

    def tail(self, lines: int) -> list[str]:
        with self._guard:
            return list(self._lines)[-lines:]

    def install(self) -> RingHandler:
        logging.getLogger().addHandler(self)
        return self

    def remove(self) -> None:
        logging.getLogger().removeHandler(self)
