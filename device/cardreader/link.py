"""The SAM session over a serial port: connect deadline, timed transactions, capped retries.

Every wait has a timeout and every retry a cap with doubling, jittered backoff. A port that
fails or a SAM that stays silent beyond the cap is declared lost (LinkLost); the owner closes
the link and reconnects.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import serial

from device.backoff import capped_delay
from device.cardreader.card import IdCard, decode_card
from device.cardreader.protocol import (
    Cmd,
    FrameParser,
    ProtocolError,
    Response,
    Status,
    decode_card_data,
    decode_response,
    describe_status,
    encode_command,
)
from device.cardreader.settings import CardReaderSettings
from device.errors import CardReaderError

log = logging.getLogger(__name__)

READ_SLICE_S = 0.05  # serial read timeout: how often a blocked read re-checks its deadline
RESEND_STATUSES = frozenset({Status.RX_CHECKSUM_ERROR, Status.RX_LENGTH_ERROR})


class LinkLost(CardReaderError):
    """The port failed, or the SAM stayed silent beyond the retry cap."""


class SamError(CardReaderError):
    """The SAM answered with an error status."""

    def __init__(self, operation: str, status: int) -> None:
        super().__init__(f"{operation}: SAM status 0x{status:02X} ({describe_status(status)})")
        self.status = status


class SerialPort(Protocol):
    """The part of serial.Serial the link uses (a seam for the port, not a mock)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


PortOpener = Callable[[str, int, float], SerialPort]


def open_serial(port: str, baudrate: int, read_slice_s: float) -> SerialPort:
    """Open a real pyserial port (8N1, no flow control)."""
    handle: SerialPort = serial.Serial(port, baudrate, timeout=read_slice_s, write_timeout=1.0)
    return handle


@dataclass(slots=True)
class LinkCounters:
    frames: int = 0
    checksum_errors: int = 0
    resyncs: int = 0
    timeouts: int = 0
    retries: int = 0
    resend_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff_s(settings: CardReaderSettings, attempt: int, rng: random.Random) -> float:
    """Doubling delay from retry_backoff_s, capped at max_backoff_s, with 50-100 % jitter."""
    return capped_delay(settings.retry_backoff_s, settings.max_backoff_s, attempt, rng)


class SamLink:
    """One open session with a SAM module on `port`; not thread-safe (one owner thread)."""

    def __init__(
        self,
        settings: CardReaderSettings,
        port: str,
        opener: PortOpener = open_serial,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._port_name = port
        self._opener = opener
        self._rng = rng or random.Random()
        self._port: SerialPort | None = None
        self._parser = FrameParser()
        self._counters = LinkCounters()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def counters(self) -> dict[str, int]:
        """Frame and error counters of this session (safe to call from another thread)."""
        counts = self._counters.as_dict()
        counts["frames"] = self._parser.frames
        counts["checksum_errors"] = self._parser.checksum_errors
        counts["resyncs"] = self._parser.resyncs
        return counts

    def open(self) -> None:
        """Open the port and check the SAM answers, within connect_timeout_s; else LinkLost."""
        deadline = time.monotonic() + self._settings.connect_timeout_s
        attempt = 0
        while True:
            try:
                self._port = self._opener(self._port_name, self._settings.baudrate, READ_SLICE_S)
                break
            except (serial.SerialException, OSError) as exc:
                attempt += 1
                delay = backoff_s(self._settings, attempt, self._rng)
                if time.monotonic() + delay > deadline:
                    raise LinkLost(f"cannot open {self._port_name}: {exc}") from exc
                time.sleep(delay)
        self._parser.reset()
        try:
            status = self.transact(Cmd.SAM_STATUS).status
        except LinkLost:
            self.close()
            raise
        if status != Status.SUCCESS:
            self.close()
            raise SamError("SAM status check", status)

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                log.debug("cardreader: closing %s: %s", self._port_name, exc)

    def transact(self, code: Cmd, data: bytes = b"") -> Response:
        """Send a command and wait for its answer, retrying a capped number of times."""
        frame = encode_command(code, data)
        attempts = self._settings.max_retries + 1
        for attempt in range(attempts):
            if attempt:
                self._counters.retries += 1
                time.sleep(backoff_s(self._settings, attempt, self._rng))
            self._send(frame)
            response = self._receive(self._settings.read_timeout_s)
            if response is None:
                self._counters.timeouts += 1
                log.debug("cardreader: %s timed out (attempt %d)", code.name, attempt + 1)
            elif response.status in RESEND_STATUSES:
                self._counters.resend_requests += 1
            else:
                return response
        raise LinkLost(f"{code.name}: no valid answer from {self._port_name} in {attempts} tries")

    def find_card(self) -> bool:
        """Is a card in the field? (find-card command)"""
        status = self.transact(Cmd.FIND_CARD).status
        if status in (Status.FIND_OK, Status.SUCCESS):
            return True
        if status == Status.FIND_FAILED:
            return False
        raise SamError("find card", status)

    def select_card(self) -> bool:
        """Select the found card; False when it has gone."""
        status = self.transact(Cmd.SELECT_CARD).status
        if status in (Status.SUCCESS, Status.FIND_OK):
            return True
        if status in (Status.SELECT_FAILED, Status.FIND_FAILED):
            return False
        raise SamError("select card", status)

    def read_card(self, with_fingerprint: bool = False) -> IdCard:
        """Read text and photo (and fingerprint) of the selected card; not validated."""
        code = Cmd.READ_TEXT_PHOTO_FP if with_fingerprint else Cmd.READ_TEXT_PHOTO
        response = self.transact(code)
        if response.status != Status.SUCCESS:
            raise SamError("read card", response.status)
        blocks = decode_card_data(response.data, with_fingerprint)
        return decode_card(blocks.text, blocks.photo, blocks.fingerprint)

    def _port_or_raise(self) -> SerialPort:
        if self._port is None:
            raise LinkLost(f"{self._port_name} is not open")
        return self._port

    def _send(self, frame: bytes) -> None:
        port = self._port_or_raise()
        try:
            port.reset_input_buffer()
            self._parser.reset()
            port.write(frame)
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"write to {self._port_name} failed: {exc}") from exc

    def _receive(self, timeout_s: float) -> Response | None:
        """The first valid frame within timeout_s, or None."""
        port = self._port_or_raise()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                chunk = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise LinkLost(f"read from {self._port_name} failed: {exc}") from exc
            for payload in self._parser.feed(chunk):
                try:
                    return decode_response(payload)
                except ProtocolError as exc:
                    log.warning("cardreader: dropped malformed response: %s", exc)
        return None
