"""The frame parser keeps up with the line on adversarial input: its work per byte is bounded
(each later preamble checked once), and it returns exactly what the simple rescanning parser
returned. Throughput is measured by scripts/bench_cardreader_parser.py, not here."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import device.cardreader.protocol as protocol
from device.cardreader.protocol import (
    HEADER_LEN,
    MAX_BODY_LEN,
    MIN_BODY_LEN,
    PREAMBLE,
    FrameParser,
    check_frame,
    encode_response,
    frame_payload,
)

FAKE_HEADER = PREAMBLE + MAX_BODY_LEN.to_bytes(2, "big") + b"\x00"


class RescanningParser:
    """The previous parser (rescans every later preamble on every byte): the reference."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buf += chunk
        out: list[bytes] = []
        while self.buf:
            result = check_frame(self.buf)
            if result > 0:
                out.append(frame_payload(bytes(self.buf[:result])))
                del self.buf[:result]
            elif result < 0:
                del self.buf[: self._next_preamble()]
            elif not self._skip():
                break
        return out

    def _next_preamble(self) -> int:
        index = self.buf.find(PREAMBLE, 1)
        if index >= 0:
            return index
        for keep in range(len(PREAMBLE) - 1, 0, -1):
            if len(self.buf) - keep >= 1 and self.buf.endswith(PREAMBLE[:keep]):
                return len(self.buf) - keep
        return len(self.buf)

    def _skip(self) -> bool:
        index = self.buf.find(PREAMBLE, 1)
        while index >= 0:
            if check_frame(self.buf[index:]) > 0:
                del self.buf[:index]
                return True
            index = self.buf.find(PREAMBLE, index + 1)
        return False


piece = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([PREAMBLE[:k] for k in range(1, 6)]),
    st.builds(lambda n: PREAMBLE + n.to_bytes(2, "big"), st.integers(0, 0x1100)),
    st.builds(lambda n: PREAMBLE + n.to_bytes(2, "big"), st.integers(MIN_BODY_LEN, 60)),
    st.builds(lambda s, d: encode_response(s, d), st.integers(0, 255), st.binary(max_size=80)),
)
streams = st.lists(piece, max_size=30).map(b"".join)


def chunks(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return (data[a:b] for a, b in itertools.pairwise(points))


@settings(max_examples=400, deadline=None, database=None)
@given(streams, st.lists(st.integers(0, 3000), max_size=40))
def test_the_parser_returns_what_the_rescanning_parser_returned(
    data: bytes, cuts: list[int]
) -> None:
    new, old = FrameParser(), RescanningParser()
    got, expected = [], []
    for chunk in chunks(data, cuts):
        got += new.feed(chunk)
        expected += old.feed(chunk)
    assert got == expected


def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"check_frame": 0, "checksum": 0, "checksum_bytes": 0}
    original_check, original_sum = protocol.check_frame, protocol.checksum

    @functools.wraps(original_check)
    def check(buf: Any) -> int:
        calls["check_frame"] += 1
        return original_check(buf)

    @functools.wraps(original_sum)
    def total(data: bytes) -> int:
        calls["checksum"] += 1
        calls["checksum_bytes"] += len(data)
        return original_sum(data)

    monkeypatch.setattr(protocol, "check_frame", check)
    monkeypatch.setattr(protocol, "checksum", total)
    return calls


def test_fake_headers_fed_byte_by_byte_cost_a_bounded_work_per_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = counted(monkeypatch)
    noise = FAKE_HEADER * (200 * 1024 // len(FAKE_HEADER))
    real = encode_response(0x90, b"\x01" * 1295)
    parser = FrameParser()
    out: list[bytes] = []
    view = memoryview(noise + real)
    for index in range(len(view)):
        out += parser.feed(view[index : index + 1])
        if index % 1024 == 1023:  # bounded all along, not only on average at the end
            assert calls["check_frame"] <= 2 * index, f"{calls} after {index + 1} bytes"
    assert out == [frame_payload(real)]
    preambles = noise.count(PREAMBLE) + 1
    # each preamble is checked at most twice (as a later candidate and as the head)
    assert calls["checksum"] <= 2 * preambles
    assert calls["check_frame"] <= 3 * preambles + len(real) // 4
    assert calls["checksum_bytes"] <= 2 * preambles * (HEADER_LEN + MAX_BODY_LEN)


def test_reset_forgets_pending_candidates() -> None:
    parser = FrameParser()
    assert parser.feed(FAKE_HEADER * 10) == []
    parser.reset()
    frame = encode_response(0x90, b"ok")
    assert parser.feed(frame) == [frame_payload(frame)] and parser.pending == 0
