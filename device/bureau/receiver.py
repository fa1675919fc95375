"""The reference bureau receiver: verify, unseal, de-duplicate and store signed results.

    receiver = Receiver(link_config, registry, bureau_key, store, prefix="faceterm/v1")
    receiver.start() ... receiver.counters ... receiver.stop()

It joins the MQTT 5 shared subscription `$share/<group>/<prefix>/+/+/result`, so several
receivers split one stream. Each message is checked (known device key, valid Ed25519
signature, strictly parsed and bounded claims, topic device = iss, tenant and revocation from the
registry, `iat` inside the freshness window unless the record says its clock is not
synchronised), personal data is unsealed with the bureau key (and must be sealed for this
jti), and the result is stored once by jti and once by (device, epoch, seq). A refused or
unstorable message goes to the dead-letter table and is acknowledged, so it never blocks.
Inbound messages are acknowledged only after the store
committed (manual ack), so a failing store never loses a result. Rejections are counted per
reason; neither keys, ID numbers nor names are ever logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from joserfc.jwk import OKPKey
from paho.mqtt.properties import Properties
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)

from device.bureau.checks import Freshness, freshness, sequence_event
from device.bureau.registry import DeviceRegistry
from device.bureau.store import DeadLetter, ResultStore, StoredResult, envelope_text
from device.publish import envelope as env
from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink
from device.publish.topics import bureau_results, split

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


class Receiver:
    def __init__(
        self,
        link_config: LinkConfig,
        registry: DeviceRegistry,
        bureau_key: OKPKey,
        store: ResultStore,
        *,
        prefix: str = "faceterm/v1",
        group: str = "bureau",
        window: Freshness | None = None,
    ) -> None:
        self.name = link_config.client_id
        self.prefix = prefix
        self.subscription = bureau_results(prefix, group)
        self.registry = registry
        self.bureau_key = bureau_key
        self.store = store
        self.freshness = window or Freshness()
        config = replace(link_config, manual_ack=True, clean_start=False,
                         session_expiry_s=link_config.session_expiry_s or SESSION_EXPIRY_S)
        self.link = MqttLink(config, LinkHooks(connected=self._connected, message=self._message,
                                               subscribed=self._subscribed))
        self.ready = threading.Event()
        self.counters: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.store.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"receiver-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.store.close()

    def _run(self) -> None:
        try:
            self.link.run(self._stop, self._commit)
        except Exception:  # thread boundary
            log.exception("receiver %s: MQTT thread failed", self.name)

    def _commit(self) -> None:
        """Between loop steps: one commit for the results handled, then their PUBACKs."""
        try:
            self.store.commit()
        except Exception:  # a callback boundary: unacknowledged, so redelivered
            log.exception("receiver %s: store commit failed; reconnecting", self.name)
            self.store.rollback()
            self.link.drop_connection()
            return
        self.link.flush_acks()

    def _connected(self) -> None:
        self.link.subscribe(self.subscription, qos=1)

    def _subscribed(self, granted: bool) -> None:
        if granted:
            self.ready.set()

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the shared subscription is in place (the broker acknowledged it)."""
        return self.ready.wait(timeout_s)

    def _message(self, topic: str, payload: bytes, props: Properties | None) -> None:
        outcome = self.handle(topic, payload)
        with self._lock:
            self.counters[outcome] += 1

    def wait_until(self, stored: int, timeout_s: float) -> bool:
        """Wait until this receiver has stored `stored` results in total (tests, demo)."""
        deadline = time.monotonic() + timeout_s
        while self.counters["stored"] < stored and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.counters["stored"] >= stored

    def status(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self.counters)
        return {"connected": self.link.connected, "last_error": self.link.last_error,
                "counters": counts}

    # ------------------------------------------------------------------ one message
    def handle(self, topic: str, payload: bytes) -> str:
        """Check and store one envelope; return 'stored' or the reason it was not.

        Never raises for a bad message: a refused or unstorable one is logged, counted and
        kept in the dead-letter table (a broken database still raises, so it is redelivered).
        """
        digest = hashlib.sha256(payload).hexdigest()
        try:
            result = self._verify(topic, payload)
            outcome = self._store(result, digest, payload)
        except env.Rejected as rejected:
            outcome = rejected.reason
            log.warning("receiver %s: rejected a result on %s: %s", self.name, _printable(topic),
                        rejected)
        except (ValueError, TypeError, KeyError, OverflowError, UnicodeError) as exc:
            outcome = "unstorable"
            log.error("receiver %s: cannot store a result on %s: %s", self.name,
                      _printable(topic), type(exc).__name__)
        if outcome not in ("stored", "duplicate"):
            self._dead_letter(topic, payload, digest, outcome)
        return outcome

    def _dead_letter(self, topic: str, payload: bytes, digest: str, reason: str) -> None:
        parts = split(topic, self.prefix)
        letter = DeadLetter(digest, time.time_ns(), self.name, _printable(topic),
                            _printable(parts[1])[:128] if parts else None, reason,
                            envelope_text(payload))
        if self.store.dead_letter(letter, commit=False):
            with self._lock:
                self.counters["dead_lettered"] += 1

    def _store(self, result: StoredResult, digest: str, payload: bytes) -> str:
        self._note_sequence(result)
        try:
            outcome = self.store.insert(result, digest, payload.decode("ascii"), commit=False)
        except SQLAlchemyError as exc:
            if not _refused_row(exc):
                raise  # the database itself failed: not acknowledged, so redelivered
            log.error("receiver %s: the store refused %s seq %d: %s", self.name,
                      result.device_id, result.seq, type(exc).__name__)
            return "unstorable"
        if outcome == "duplicate":
            log.debug("receiver %s: duplicate delivery of %s seq %d", self.name,
                      result.device_id, result.seq)
        elif outcome != "stored":
            log.warning("receiver %s: %s from %s epoch %s seq %d (not stored)", self.name,
                        outcome, result.device_id, result.epoch or "-", result.seq)
        return outcome

    def _note_sequence(self, result: StoredResult) -> None:
        event = sequence_event(result.seq, *self.store.sequence_state(result.device_id,
                                                                      result.epoch))
        if event in ("first", "next"):
            return
        if event == "behind":  # out of order across shared receivers: usual, not news
            log.debug("receiver %s: %s seq %d arrived behind", self.name, result.device_id,
                      result.seq)
            return
        with self._lock:
            self.counters[f"sequence_{event}"] += 1
        if event == "reset":
            log.warning("receiver %s: sequence reset by %s: new epoch %s starts at seq %d",
                        self.name, result.device_id, result.epoch or "-", result.seq)
        else:
            log.info("receiver %s: sequence %s from %s at seq %d", self.name, event,
                     result.device_id, result.seq)

    def _verify(self, topic: str, payload: bytes) -> StoredResult:
        parts = split(topic, self.prefix)
        if parts is None:
            raise env.Rejected("malformed", "topic")
        tenant, topic_device, _ = parts
        try:
            token = payload.decode("ascii")
        except UnicodeDecodeError as exc:
            raise env.Rejected("malformed", "not ASCII") from exc
        device = self.registry.lookup(env.read_kid(token))
        claims = env.verify(token, lambda _kid: device.key if device else None)
        assert device is not None  # verify refused an unknown device
        if device.revoked:
            raise env.Rejected("revoked", device.device_id)
        if claims["iss"] != topic_device:
            raise env.Rejected("topic_mismatch", topic_device)
        if device.tenant is None:
            raise env.Rejected("no_tenant", device.device_id)
        if device.tenant != tenant:
            raise env.Rejected("wrong_tenant", device.device_id)
        fresh = freshness(claims["iat"], claims["record"], time.time(), self.freshness)
        if fresh.refused is not None:
            raise env.Rejected(fresh.refused, f"iat {claims['iat']}")
        personal = None
        if "pii" in claims:
            personal = env.unseal_personal(str(claims["pii"]), self.bureau_key, claims["jti"])
        return StoredResult(claims["jti"], device.device_id, device.tenant, claims["seq"],
                            claims["iat"], time.time_ns(), self.name, claims["record"], personal,
                            str(claims.get("epoch") or ""), fresh.clock_unsynced)


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")


def _refused_row(exc: SQLAlchemyError) -> bool:
    """A row the database refuses (value out of range, bad text), not a database failure."""
    return isinstance(exc, DataError | IntegrityError | StatementError) and not isinstance(
        exc, OperationalError)
