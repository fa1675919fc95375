"""The fleet command channel: commands arrive on the MQTT thread, run one at a time on a worker
thread, and every reply (progress and outcome) is signed with the device key and sent to the
command's MQTT 5 ResponseTopic with its CorrelationData."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.fleet.jobs import JobRunner
from device.publish.topics import Topics

log = logging.getLogger(__name__)

Send = Callable[[str, bytes, int, bool, Properties | None], None]
REPLY_ALG = "Ed25519"


def sign_reply(key: OKPKey, device_id: str, reply: dict[str, Any], now_s: float) -> bytes:
    claims = {"iss": device_id, "iat": int(now_s), "reply": reply}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    header = {"alg": REPLY_ALG, "kid": device_id, "typ": "faceterm-reply+jws"}
    return jws.serialize_compact(header, payload, key, [REPLY_ALG]).encode()


class FleetChannel:
    def __init__(
        self,
        runner: JobRunner,
        send: Send,
        topics: Topics,
        signing_key: OKPKey,
        queue_size: int = 16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runner = runner
        self._send = send
        self._topics = topics
        self._key = signing_key
        self._clock = clock
        self._queue: queue.Queue[tuple[bytes, Properties | None] | None] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self.busy_refusals = 0

    def start(self) -> None:
        for jti in self._runner.recover():
            log.warning("fleet job %s was interrupted by a restart: TIMED_OUT", jti)
        self._thread = threading.Thread(target=self._work, name="fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=1.0)
            self._thread.join(timeout=10.0)
            self._thread = None

    def status(self) -> dict[str, Any]:
        return {**self._runner.status(), "queued": self._queue.qsize(),
                "busy_refusals": self.busy_refusals}

    def on_command(self, topic: str, payload: bytes, props: Properties | None) -> None:
        """Called on the MQTT thread: never blocks; a full queue is answered 'busy' at once."""
        try:
            self._queue.put_nowait((payload, props))
        except queue.Full:
            self.busy_refusals += 1
            self._reply(props, {"jti": None, "command": None, "status": "REJECTED",
                                "reason": "busy"})

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            payload, props = item
            try:
                reply = self._runner.process(payload, functools.partial(self._reply, props))
            except Exception:  # thread boundary: one bad command must not end the channel
                log.exception("fleet command crashed")
                reply = {"jti": None, "command": None, "status": "FAILED", "reason": "internal"}
            self._reply(props, reply)

    def _reply(self, props: Properties | None, reply: dict[str, Any]) -> None:
        topic = self._response_topic(props)
        out = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        if correlation:
            out.CorrelationData = correlation
        try:
            self._send(topic, sign_reply(self._key, self._topics.device, reply, self._clock()),
                       1, False, out)
        except Exception:  # the reply is best effort; the job record keeps the outcome
            log.exception("fleet reply could not be queued")

    def _response_topic(self, props: Properties | None) -> str:
        """The requested ResponseTopic if it lies in this device's namespace (the broker's ACL
        allows nothing else), else `<base>/reply`."""
        default = f"{self._topics.base}/reply"
        wanted = getattr(props, "ResponseTopic", None) if props is not None else None
        if isinstance(wanted, str) and wanted.startswith(default) and "+" not in wanted \
                and "#" not in wanted:
            return wanted
        return default
