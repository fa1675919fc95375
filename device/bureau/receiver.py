"""The reference bureau receiver: verify, unseal, de-duplicate and store signed results.

    receiver = Receiver(link_config, registry, bureau_key, store, prefix="faceterm/v1")
    receiver.start() ... receiver.counters ... receiver.stop()

It joins the MQTT 5 shared subscription `$share/<group>/<prefix>/+/+/result`, so several
receivers split one stream. Each message is checked (known device key, valid Ed25519
signature, sane claims, topic device = iss), personal data is unsealed with the bureau key, and
the result is stored once by jti. Inbound messages are acknowledged only after the store
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

from device.bureau.store import ResultStore, StoredResult
from device.publish import envelope as env
from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink
from device.publish.topics import bureau_results, split

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


class Receiver:
    def __init__(
        self,
        link_config: LinkConfig,
        registry: dict[str, OKPKey],
        bureau_key: OKPKey,
        store: ResultStore,
        *,
        prefix: str = "faceterm/v1",
        group: str = "bureau",
    ) -> None:
        self.name = link_config.client_id
        self.prefix = prefix
        self.subscription = bureau_results(prefix, group)
        self.registry = registry
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
        """Check and store one envelope; return 'stored' or the reason it was not."""
        try:
            result = self._verify(topic, payload)
        except env.Rejected as rejected:
            log.warning("receiver %s: rejected a result on %s: %s", self.name, topic,
                        rejected.reason)
            return rejected.reason
        digest = hashlib.sha256(payload).hexdigest()
        outcome = self.store.insert(result, digest, payload.decode(), commit=False)
        if outcome not in ("stored", "duplicate"):
            log.warning("receiver %s: %s from %s seq %d", self.name, outcome,
                        result.device_id, result.seq)
        return outcome

    def _verify(self, topic: str, payload: bytes) -> StoredResult:
        parts = split(topic, self.prefix)
        if parts is None:
            raise env.Rejected("malformed", "topic")
        tenant, device, _ = parts
        try:
            token = payload.decode("ascii")
        except UnicodeDecodeError as exc:
            raise env.Rejected("malformed", "not ASCII") from exc
        claims = env.verify(token, self.registry.get)
        if claims["iss"] != device:
            raise env.Rejected("topic_mismatch", device)
        personal = None
        if "pii" in claims:
            try:
                personal = env.unseal_personal(str(claims["pii"]), self.bureau_key)
            except env.Rejected:
                with self._lock:
                    self.counters["pii_undecryptable"] += 1
        return StoredResult(claims["jti"], device, tenant, claims["seq"], claims["iat"],
                            time.time_ns(), self.name, claims["record"], personal)
