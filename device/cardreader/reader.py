"""The card-reader component: a polling thread that posts events; plus a one-shot read.

The thread owns the SamLink. It polls find-card, reads each newly presented card once,
validates it and posts CardInserted or CardRefused; CardRemoved after `removal_misses`
empty polls. A lost link is declared loudly (ERROR log and ReaderError), closed and
reopened with doubling, capped, jittered backoff for as long as the component runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from device.cardreader.backends import PortBackend, make_backend
from device.cardreader.card import IdCard, validate_card
from device.cardreader.events import (
    CardInserted,
    CardRefused,
    CardRemoved,
    EventSink,
    ReaderError,
    ReaderEvent,
)
from device.cardreader.idnumber import CardRejected
from device.cardreader.link import LinkLost, PortOpener, SamLink, backoff_s, open_serial
from device.cardreader.settings import CardReaderSettings
from device.errors import CardReaderError

log = logging.getLogger(__name__)

Today = Callable[[], dt.date]


class CardReader:
    """start() / stop() / status(); events go to `sink` (e.g. a QueueSink)."""

    def __init__(
        self,
        settings: CardReaderSettings,
        sink: EventSink,
        backend: PortBackend | None = None,
        opener: PortOpener = open_serial,
        today: Today = dt.date.today,
    ) -> None:
        self._settings = settings
        self._sink = sink
        self._backend = backend or make_backend(settings)
        self._opener = opener
        self._today = today
        self._rng = random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._link: SamLink | None = None
        self._port = ""
        self._holding = False
        self._misses = 0
        self._read_failures = 0
        self._stats = {"reconnects": 0, "links_lost": 0, "cards": 0, "refused": 0, "errors": 0}
        self._last_counters: dict[str, int] = {}
        self._totals: dict[str, int] = {}

    def start(self) -> None:
        if self._thread is not None:
            raise CardReaderError("card reader already started")
        self._port = self._backend.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cardreader", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("cardreader: thread did not stop within %.1f s", timeout_s)
            self._thread = None
        self._close_link()
        self._backend.stop()

    def status(self) -> dict[str, Any]:
        link = self._link
        counters = dict(self._totals)
        if link is not None:
            for key, value in link.counters().items():
                counters[key] = counters.get(key, 0) + value
        return {
            "port": self._port,
            "connected": bool(link and link.is_open),
            "card_present": self._holding,
            **self._stats,
            **counters,
        }

    def _post(self, event: ReaderEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            log.exception("cardreader: event sink failed")

    def _run(self) -> None:
        failures = sam_errors = 0
        while not self._stop.is_set():
            try:
                if self._link is None:
                    self._connect(failures)
                    failures = 0
                self._poll_once()
                sam_errors = 0
                delay = self._settings.poll_interval_s
            except LinkLost as exc:
                failures += 1
                self._link_lost(exc)
                delay = backoff_s(self._settings, failures, self._rng)
            except CardReaderError as exc:
                sam_errors += 1
                if sam_errors == 1:  # once per streak; the streak backs off instead of spamming
                    log.error("cardreader: SAM error: %s", exc)
                    self._error("sam_error", str(exc))
                delay = backoff_s(self._settings, sam_errors, self._rng)
            except Exception as exc:
                log.exception("cardreader: unexpected failure in the polling thread")
                self._error("internal", type(exc).__name__)
                delay = self._settings.max_backoff_s
            self._stop.wait(delay)

    def _connect(self, failures: int) -> None:
        link = SamLink(self._settings, self._port, self._opener, self._rng)
        link.open()
        self._link = link
        if failures:
            self._stats["reconnects"] += 1
            log.warning("cardreader: link to %s restored", self._port)
            self._post(ReaderError("link_restored", self._port, time.monotonic()))
        else:
            log.info("cardreader: connected to %s", self._port)

    def _link_lost(self, exc: LinkLost) -> None:
        was_open = self._link is not None
        self._close_link()
        if was_open:
            self._stats["links_lost"] += 1
            log.error("cardreader: LINK LOST on %s: %s; reconnecting", self._port, exc)
            self._error("link_lost", str(exc))
        else:
            log.warning("cardreader: cannot connect to %s: %s", self._port, exc)
            self._error("link_down", str(exc))
        if self._holding:
            self._holding = False
            self._post(CardRemoved(time.monotonic()))

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            for key, value in link.counters().items():
                self._totals[key] = self._totals.get(key, 0) + value
            link.close()

    def _error(self, code: str, detail: str) -> None:
        self._stats["errors"] += 1
        self._post(ReaderError(code, detail, time.monotonic()))

    def _poll_once(self) -> None:
        link = self._link
        assert link is not None
        found = link.find_card()
        if self._holding:
            if found or link.select_card():
                self._misses = 0
            else:
                self._note_miss()
            return
        if not found or not link.select_card():
            self._read_failures = 0
            return
        try:
            card = link.read_card()
        except CardReaderError as exc:
            self._read_failed(exc)
            return
        self._holding, self._misses, self._read_failures = True, 0, 0
        self._deliver(card)

    def _note_miss(self) -> None:
        self._misses += 1
        if self._misses >= self._settings.removal_misses:
            self._holding, self._misses = False, 0
            log.info("cardreader: card removed")
            self._post(CardRemoved(time.monotonic()))

    def _read_failed(self, exc: CardReaderError) -> None:
        if isinstance(exc, LinkLost):
            raise exc
        self._read_failures += 1
        log.warning("cardreader: read failed (%d): %s", self._read_failures, exc)
        if self._read_failures >= self._settings.max_read_failures:
            self._holding, self._read_failures = True, 0
            self._error("read_failed", str(exc))

    def _deliver(self, card: IdCard) -> None:
        try:
            validate_card(card, self._today())
        except CardRejected as exc:
            self._stats["refused"] += 1
            log.info("cardreader: card %s refused: %s", card.masked_id, exc.reason.value)
            self._post(CardRefused(exc.reason.value, exc.detail, time.monotonic()))
            return
        self._stats["cards"] += 1
        log.info("cardreader: card %s read", card.masked_id)
        self._post(CardInserted(card, time.monotonic()))


def read_once(
    settings: CardReaderSettings,
    timeout_s: float,
    backend: PortBackend | None = None,
    opener: PortOpener = open_serial,
) -> IdCard:
    """Connect, wait up to timeout_s for a card, read it once (not validated), disconnect."""
    backend = backend or make_backend(settings)
    link = SamLink(settings, backend.start(), opener)
    try:
        link.open()
        deadline = time.monotonic() + timeout_s
        while not (link.find_card() and link.select_card()):
            if time.monotonic() >= deadline:
                raise CardReaderError(f"no card presented within {timeout_s:g} s")
            time.sleep(settings.poll_interval_s)
        return link.read_card()
    finally:
        link.close()
        backend.stop()
