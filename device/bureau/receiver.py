"""The reference bureau receiver: verify, unseal, de-duplicate and store signed results.

    receiver = Receiver(link_config, registry, bureau_key, store, prefix="faceterm/v1")
    receiver.start() ... receiver.counters ... receiver.stop()

It joins the MQTT 5 shared subscription `$share/<group>/<prefix>/+/+/result`, so several
receivers split one stream. Each message is checked (known device key, valid Ed25519
signature, sane claims, topic device = iss), personal data is unsealed with the bureau key, and
the result is stored once by jti. Inbound messages are acknowledged only after the store
committed (manual ack), so a failing store never loses a result. Every message that is refused
(bad signature, strict-JSON or bounds failure, stale, wrong tenant, replay) or that the database
cannot hold goes to the dead-letter table and is counted and logged by reason, so one bad
message never blocks the ones behind it; neither keys, ID numbers nor names are ever logged.
The device registry is re-read when its file changes (device.bureau.registry), so a removed or
revoked device is refused without a restart.
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

from device.bureau.checks import Freshness, check_fresh, tenant_of
from device.bureau.registry import DeviceRegistry
from device.bureau.store import ResultStore, StoredResult, Unstorable
from device.publish import envelope as env
from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink
from device.publish.topics import bureau_results, split

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


class Receiver:
    def __init__(
        self,
        link_config: LinkConfig,
        registry: DeviceRegistry | dict[str, OKPKey],
        bureau_key: OKPKey,
        store: ResultStore,
        *,
        prefix: str = "faceterm/v1",
        group: str = "bureau",
        freshness: Freshness | None = None,
    ) -> None:
        self.name = link_config.client_id
        self.prefix = prefix
        self.subscription = bureau_results(prefix, group)
        self.registry = (registry if isinstance(registry, DeviceRegistry)
                         else DeviceRegistry(static=registry))
        self.freshness = freshness or Freshness()
        self.bureau_key = bureau_key
        self.store = store
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
        """Check and store one envelope; return 'stored' or the reason it was not. Never
        raises for a bad message; only a database that is down propagates (redelivery)."""
        received_ns = time.time_ns()
        try:
            result = self._verify(topic, payload, received_ns)
        except env.Rejected as rejected:
            return self._refuse(topic, payload, rejected.reason, None, received_ns)
        digest = hashlib.sha256(payload).hexdigest()
        try:
            done = self.store.insert(result, digest, payload.decode("ascii"), commit=False)
        except Unstorable as exc:
            log.warning("receiver %s: unstorable result from %s: %s", self.name,
                        result.device_id, exc)
            return self._refuse(topic, payload, "unstorable", result.device_id, received_ns)
        self._note_sequence(result, done.sequence, done.missing)
        if done.outcome == "duplicate":
            log.debug("receiver %s: duplicate delivery of %s seq %d", self.name,
                      result.device_id, result.seq)
        elif done.outcome != "stored":
            return self._refuse(topic, payload, done.outcome, result.device_id, received_ns)
        return done.outcome

    def _refuse(self, topic: str, payload: bytes, reason: str, device: str | None,
                received_ns: int) -> str:
        log.warning("receiver %s: dead-lettered a message on %r: %s", self.name, topic[:200],
                    reason)
        self.store.dead_letter(received_ns, self.name, topic, reason, device, payload,
                               commit=False)
        with self._lock:
            self.counters["dead_lettered"] += 1
        return reason

    def _note_sequence(self, result: StoredResult, sequence: str | None, missing: int) -> None:
        if sequence in (None, "first"):
            return
        with self._lock:
            self.counters[f"sequence_{sequence}"] += 1
        if sequence == "reset":
            log.warning("receiver %s: sequence reset by %s: new epoch %s starts at seq %d",
                        self.name, result.device_id, result.epoch[:36], result.seq)
        elif sequence == "gap":  # common with several receivers or a quarantined result
            log.info("receiver %s: %d results of %s not yet received before seq %d",
                     self.name, missing, result.device_id, result.seq)
        else:
            log.debug("receiver %s: %s seq %d arrived out of order", self.name,
                     result.device_id, result.seq)

    def _verify(self, topic: str, payload: bytes, received_ns: int) -> StoredResult:
        parts = split(topic, self.prefix)
        if parts is None:
            raise env.Rejected("malformed", "topic")
        topic_tenant, device, _ = parts
        try:
            token = payload.decode("ascii")
        except UnicodeDecodeError as exc:
            raise env.Rejected("malformed", "not ASCII") from exc
        if self.registry.is_revoked(env.read_kid(token)):
            raise env.Rejected("revoked_device")
        claims = env.verify(token, self.registry.key_for)
        if claims["iss"] != device:
            raise env.Rejected("topic_mismatch", device)
        entry = self.registry.lookup(device)
        tenant = tenant_of(entry.tenant if entry else None, topic_tenant)
        record = claims["record"]
        unsynced = check_fresh(claims["iat"], record, received_ns / 1e9, self.freshness)
        personal = None
        if "pii" in claims:
            if not isinstance(claims["pii"], str):
                raise env.Rejected("bad_claims", "pii")
            personal = env.unseal_personal(claims["pii"], self.bureau_key, claims["jti"])
        return StoredResult(claims["jti"], device, tenant, claims["seq"], claims["iat"],
                            received_ns, self.name, record, personal,
                            str(claims.get("epoch", "")), unsynced)
