"""The GA 467 SAM serial codec: framing, XOR checksum, incremental parsing with resync.

Pure functions and one small parser class: no I/O, no clock, no threads.

A frame on the wire (both directions) is::

    AA AA AA 96 69 | LEN_HI LEN_LO | payload ... | CHK

LEN counts the bytes after the length field (payload + checksum). CHK is the XOR of the
two length bytes and the payload. A command payload is ``CMD PARA DATA...``; a response
payload is ``SW1 SW2 SW3 DATA...`` where SW3 is the SAM's own status code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import reduce

from device.errors import CardReaderError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_BODY_LEN = 3  # the shortest legal LEN: a command with CMD, PARA and CHK
MAX_BODY_LEN = 4096  # longest response (text + photo + fingerprint) is ~2.3 kB
TEXT_LEN = 256
PHOTO_LEN = 1024


class ProtocolError(CardReaderError):
    """A frame or its payload does not follow the protocol."""


class Status(IntEnum):
    """SW3 codes of the SAM module (GA 467 / vendor SAM protocol tables)."""

    SUCCESS = 0x90
    NO_CONTENT = 0x91
    FIND_OK = 0x9F
    RX_CHECKSUM_ERROR = 0x10
    RX_LENGTH_ERROR = 0x11
    RX_COMMAND_ERROR = 0x21
    UNAUTHORIZED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    READER_AUTH_FAILED = 0x32
    VERIFY_FAILED = 0x33
    WRONG_CARD = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORIZED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81


STATUS_TEXT: dict[int, str] = {
    Status.SUCCESS: "success",
    Status.NO_CONTENT: "no such content on the card",
    Status.FIND_OK: "card found",
    Status.RX_CHECKSUM_ERROR: "SAM received a frame with a bad checksum",
    Status.RX_LENGTH_ERROR: "SAM received a frame with a bad length",
    Status.RX_COMMAND_ERROR: "SAM received an invalid command",
    Status.UNAUTHORIZED: "operation not permitted",
    Status.UNKNOWN_ERROR: "unrecognised error",
    Status.CARD_AUTH_FAILED: "card failed to authenticate the reader",
    Status.READER_AUTH_FAILED: "reader failed to authenticate the card",
    Status.VERIFY_FAILED: "information verification failed",
    Status.WRONG_CARD: "not an identity card",
    Status.READ_FAILED: "reading the card failed",
    Status.RANDOM_FAILED: "getting a random number failed",
    Status.SELF_TEST_FAILED: "SAM self-test failed",
    Status.SAM_NOT_AUTHORIZED: "SAM module not authorised",
    Status.FIND_FAILED: "no card found",
    Status.SELECT_FAILED: "selecting the card failed",
}


def describe_status(code: int) -> str:
    """A human-readable meaning of an SW3 status code."""
    return STATUS_TEXT.get(code, f"unknown status 0x{code:02X}")


class Cmd(IntEnum):
    """(CMD << 8) | PARA of the commands the terminal sends."""

    RESET = 0x10FF
    SAM_STATUS = 0x11FF
    SAM_ID = 0x12FF
    FIND_CARD = 0x2001
    SELECT_CARD = 0x2002
    READ_TEXT_PHOTO = 0x3001
    READ_APPENDIX = 0x3003
    READ_TEXT_PHOTO_FP = 0x3010


@dataclass(frozen=True, slots=True)
class ReaderCommand:
    cmd: int
    param: int
    data: bytes = b""

    @property
    def code(self) -> int:
        return (self.cmd << 8) | self.param


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    data: bytes = b""
    sw1: int = 0
    sw2: int = 0

    @property
    def ok(self) -> bool:
        return self.status in (Status.SUCCESS, Status.FIND_OK)


@dataclass(frozen=True, slots=True)
class CardData:
    """The data of a read response: 256-byte UCS-2LE text, WLT photo, optional fingerprint."""

    text: bytes
    photo: bytes
    fingerprint: bytes | None = field(default=None, repr=False)


def checksum(data: bytes) -> int:
    """XOR of every byte."""
    return reduce(lambda acc, byte: acc ^ byte, data, 0)


def encode_frame(payload: bytes) -> bytes:
    """Wrap a payload in preamble, length and checksum."""
    body_len = len(payload) + 1
    if body_len > MAX_BODY_LEN:
        raise ProtocolError(f"payload of {len(payload)} bytes is too long")
    length = body_len.to_bytes(2, "big")
    return PREAMBLE + length + payload + bytes([checksum(length + payload)])


def encode_command(code: int, data: bytes = b"") -> bytes:
    """A command frame for Cmd code (CMD << 8 | PARA)."""
    return encode_frame(bytes([(code >> 8) & 0xFF, code & 0xFF]) + data)


def encode_response(status: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """A response frame as the SAM sends it (used by the simulator)."""
    return encode_frame(bytes([sw1, sw2, status]) + data)


def check_frame(buf: bytes | bytearray) -> int:
    """Klipper-style check: >0 a whole valid frame of that length is at the start of buf,
    0 more bytes are needed, <0 discard that many bytes (no preamble, bad length or checksum).
    """
    start = bytes(buf[: len(PREAMBLE)])
    if start != PREAMBLE[: len(start)]:
        return -1
    if len(buf) < HEADER_LEN:
        return 0
    body_len = int.from_bytes(buf[5:7], "big")
    if not MIN_BODY_LEN <= body_len <= MAX_BODY_LEN:
        return -1
    total = HEADER_LEN + body_len
    if len(buf) < total:
        return 0
    if checksum(bytes(buf[5 : total - 1])) != buf[total - 1]:
        return -1
    return total


def frame_payload(frame: bytes) -> bytes:
    """The payload of a whole valid frame (as accepted by check_frame)."""
    return bytes(frame[HEADER_LEN:-1])


def decode_response(payload: bytes) -> Response:
    if len(payload) < 3:
        raise ProtocolError(f"response payload of {len(payload)} bytes is too short")
    return Response(status=payload[2], data=bytes(payload[3:]), sw1=payload[0], sw2=payload[1])


def decode_command(payload: bytes) -> ReaderCommand:
    if len(payload) < 2:
        raise ProtocolError(f"command payload of {len(payload)} bytes is too short")
    return ReaderCommand(cmd=payload[0], param=payload[1], data=bytes(payload[2:]))


def decode_card_data(data: bytes, with_fingerprint: bool = False) -> CardData:
    """Split a read response's data: lengths (2 bytes each, big-endian) then the blocks."""
    heads = 3 if with_fingerprint else 2
    if len(data) < 2 * heads:
        raise ProtocolError("card data too short for its length fields")
    lengths = [int.from_bytes(data[2 * i : 2 * i + 2], "big") for i in range(heads)]
    if lengths[0] != TEXT_LEN or lengths[1] > PHOTO_LEN:
        raise ProtocolError(f"unexpected text/photo lengths {lengths[0]}/{lengths[1]}")
    if len(data) != 2 * heads + sum(lengths):
        raise ProtocolError(f"card data is {len(data)} bytes, lengths say {sum(lengths)}")
    offset = 2 * heads
    text = data[offset : offset + lengths[0]]
    photo = data[offset + lengths[0] : offset + lengths[0] + lengths[1]]
    fingerprint = data[offset + lengths[0] + lengths[1] :] if with_fingerprint else None
    return CardData(text=bytes(text), photo=bytes(photo), fingerprint=fingerprint)


def encode_card_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """The inverse of decode_card_data (used by the simulator)."""
    blocks = [text, photo] if fingerprint is None else [text, photo, fingerprint]
    heads = b"".join(len(block).to_bytes(2, "big") for block in blocks)
    return heads + b"".join(blocks)


class FrameParser:
    """Fed arbitrary chunks, returns whole valid frames' payloads; resyncs and counts errors.

    While a frame that claims a long length is incomplete, a later preamble that starts a
    complete valid frame wins: a fake header in line noise cannot swallow a real frame.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.frames = 0
        self.checksum_errors = 0
        self.length_errors = 0
        self.resyncs = 0
        self.discarded_bytes = 0

    def reset(self) -> None:
        """Forget buffered bytes (after a port flush); counters are kept."""
        self._buf.clear()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add bytes; return the payloads of every frame now complete, in order."""
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise ProtocolError(f"parser fed {type(chunk).__name__}, not bytes")
        self._buf += chunk
        payloads: list[bytes] = []
        while self._buf:
            result = check_frame(self._buf)
            if result > 0:
                payloads.append(frame_payload(bytes(self._buf[:result])))
                del self._buf[:result]
                self.frames += 1
            elif result < 0:
                self._reject()
            elif not self._skip_to_later_frame():
                break
        return payloads

    def _reject(self) -> None:
        if self._buf.startswith(PREAMBLE) and len(self._buf) >= HEADER_LEN:
            body_len = int.from_bytes(self._buf[5:7], "big")
            if MIN_BODY_LEN <= body_len <= MAX_BODY_LEN:
                self.checksum_errors += 1
            else:
                self.length_errors += 1
        self._drop(self._next_preamble(1))

    def _next_preamble(self, start: int) -> int:
        """Index of the next possible preamble at or after start (a partial one at the end)."""
        index = self._buf.find(PREAMBLE, start)
        if index >= 0:
            return index
        for keep in range(len(PREAMBLE) - 1, 0, -1):
            if len(self._buf) - keep >= start and self._buf.endswith(PREAMBLE[:keep]):
                return len(self._buf) - keep
        return len(self._buf)

    def _skip_to_later_frame(self) -> bool:
        """While waiting for more bytes: is a complete valid frame buffered further on?"""
        index = self._buf.find(PREAMBLE, 1)
        while index >= 0:
            if check_frame(self._buf[index:]) > 0:
                self._drop(index)
                return True
            index = self._buf.find(PREAMBLE, index + 1)
        return False

    def _drop(self, count: int) -> None:
        if count <= 0:
            return
        del self._buf[:count]
        self.resyncs += 1
        self.discarded_bytes += count
