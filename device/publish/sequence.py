"""The device's result sequence: an epoch (UUID) and a reserve-ahead high-water mark, kept in a
0600 file beside the device key, so that losing or repairing the outbox never restarts `seq`.

    sequence = SequenceFile(path, reserve=64); sequence.open()
    seq = sequence.next(outbox_last_seq)   # durable before it is used

The file holds {"epoch": UUID, "high_water": N}: every seq up to N may have been used. next()
returns max(last used, outbox counter) + 1 and, before handing out a seq above the mark, writes
a new mark `reserve` ahead (temporary file, fsync, rename, fsync of the folder). After a crash
or restart the next seq is high_water + 1: a gap of at most `reserve`, never a repeat. A file
that is missing or unreadable starts a new epoch (logged): the bureau treats the pair (epoch,
seq) as a new, logged series rather than as replays of the old one.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from device.errors import PublishError
from device.secretfile import write_secret
from device.storage import classify, fsync_dir

log = logging.getLogger(__name__)

MAX_SEQ = 2**53 - 1  # the bureau's integer bound


class SequenceFile:
    def __init__(self, path: Path, reserve: int = 64) -> None:
        if reserve < 1:
            raise ValueError("reserve must be at least 1")
        self.path = path
        self.reserve = reserve
        self.epoch = ""
        self.new_epoch = False
        self._high = 0
        self._used = 0
        self._lock = threading.Lock()

    def open(self) -> None:
        state = self._read()
        if state is None:
            self.epoch, self._high, self.new_epoch = str(uuid.uuid4()), 0, True
            self._write(0)
            log.warning("sequence: new epoch %s (%s had no usable state)", self.epoch,
                        self.path.name)
        else:
            self.epoch, self._high = state
        self._used = self._high

    def next(self, outbox_last: int) -> int:
        """The next seq (above every seq used before, durably reserved)."""
        with self._lock:
            if not self.epoch:
                raise PublishError("sequence file is not open")
            seq = max(self._used, outbox_last) + 1
            if seq > MAX_SEQ:
                raise PublishError("sequence exhausted")
            if seq > self._high:
                self._write(min(MAX_SEQ, seq + self.reserve - 1))
            self._used = seq
            return seq

    def status(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "high_water": self._high, "last_used": self._used,
                "new_epoch": self.new_epoch}

    def _read(self) -> tuple[str, int] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            epoch, high = str(uuid.UUID(data["epoch"])), data["high_water"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("sequence: %s unreadable (%s): starting a new epoch", self.path, exc)
            return None
        if not isinstance(high, int) or isinstance(high, bool) or not 0 <= high <= MAX_SEQ:
            log.error("sequence: %s has a bad high-water mark: starting a new epoch", self.path)
            return None
        return epoch, high

    def _write(self, high: int) -> None:
        text = json.dumps({"epoch": self.epoch, "high_water": high}, sort_keys=True) + "\n"
        try:
            write_secret(self.path, text.encode("utf-8"))
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise classify(exc, f"{self.path.name}: cannot store the sequence") from exc
        self._high = high
