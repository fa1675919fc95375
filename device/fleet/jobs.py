"""Command jobs, after AWS IoT Jobs: QUEUED -> IN_PROGRESS -> SUCCEEDED | FAILED | REJECTED |
TIMED_OUT. A job is recorded before it runs, so a redelivered or replayed command never runs
twice (the reply names the original outcome), and its status survives restarts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device.errors import CommandRefused, CommandRejected, ConfigError, FacetermError
from device.fleet.auth import Audience, Command, verify
from device.fleet.keyring import Keyring
from device.fleet.replay import JobStore

log = logging.getLogger(__name__)

Handler = Callable[[Command], dict[str, Any]]
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class JobPolicy:
    audience: Audience
    skew_s: float
    max_bytes: int


class JobRunner:
    """Verifies, records and runs one command at a time; every path ends in a reply dict."""

    def __init__(
        self,
        keyring: Keyring,
        store: JobStore,
        policy: JobPolicy,
        handlers: dict[str, Handler],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keyring = keyring
        self._store = store
        self._policy = policy
        self._handlers = handlers
        self._clock = clock
        self.counters: dict[str, int] = {"accepted": 0, "rejected": 0, "failed": 0}
        self.rejections: dict[str, int] = {}

    def recover(self) -> list[str]:
        """Jobs a crash interrupted are reported TIMED_OUT (they are not re-run blindly)."""
        stale = self._store.unfinished()
        for job in stale:
            self._store.update(job["jti"], "TIMED_OUT", self._clock(), reason="interrupted")
        return [job["jti"] for job in stale]

    def process(self, token: bytes, progress: Progress = lambda reply: None) -> dict[str, Any]:
        now = self._clock()
        try:
            command = verify(token, self._keyring, self._policy.audience, now,
                             self._policy.skew_s, self._policy.max_bytes)
        except CommandRejected as exc:
            return self._rejected(None, None, exc)
        try:
            previous = self._store.claim(command.jti, command.name, command.issued_at,
                                         command.expires_at, now)
        except CommandRejected as exc:
            return self._rejected(command.jti, command.name, exc)
        if previous is not None:
            reply = self._rejected(command.jti, command.name,
                                   CommandRejected("replayed", "jti already seen"))
            return {**reply, "original": {"status": previous["status"],
                                          "reason": previous["reason"]}}
        self.counters["accepted"] += 1
        self._store.update(command.jti, "IN_PROGRESS", now)
        progress(_reply(command.jti, command.name, "IN_PROGRESS"))
        return self._run(command)

    def _run(self, command: Command) -> dict[str, Any]:
        handler = self._handlers.get(command.name)
        try:
            if handler is None:
                raise CommandRejected("unsupported", f"{command.name} is not available here")
            result = handler(command)
        except CommandRefused as exc:
            return self._finish(command, "REJECTED", exc.reason, {"detail": exc.detail})
        except CommandRejected as exc:
            return self._finish(command, "FAILED", exc.reason, {"detail": exc.detail})
        except (FacetermError, ConfigError, OSError, ValueError) as exc:
            return self._finish(command, "FAILED", "error", {"detail": str(exc)})
        if self._clock() > command.expires_at + self._policy.skew_s:
            return self._finish(command, "TIMED_OUT", "expired_while_running", result)
        return self._finish(command, "SUCCEEDED", None, result)

    def _finish(
        self, command: Command, status: str, reason: str | None, result: dict[str, Any]
    ) -> dict[str, Any]:
        self._store.update(command.jti, status, self._clock(), reason=reason, result=result)
        if status != "SUCCEEDED":
            self.counters["failed"] += 1
            log.warning("job %s (%s) %s: %s", command.jti, command.name, status, reason)
        return {**_reply(command.jti, command.name, status, reason), "result": result}

    def _rejected(
        self, jti: str | None, name: str | None, exc: CommandRejected
    ) -> dict[str, Any]:
        self.counters["rejected"] += 1
        self.rejections[exc.reason] = self.rejections.get(exc.reason, 0) + 1
        log.warning("command rejected: %s", exc)
        return {**_reply(jti, name, "REJECTED", exc.reason), "detail": exc.detail}

    def status(self) -> dict[str, Any]:
        return {**self.counters, "rejections": dict(self.rejections)}


def _reply(jti: str | None, name: str | None, status: str, reason: str | None = None
           ) -> dict[str, Any]:
    return {"jti": jti, "command": name, "status": status, "reason": reason}
