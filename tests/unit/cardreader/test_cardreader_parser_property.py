"""Property tests: the parser never fails on any byte stream and never loses a frame."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from device.cardreader.protocol import (
    PREAMBLE,
    FrameParser,
    ProtocolError,
    check_frame,
    encode_response,
    frame_payload,
)

# Noise that is biased towards the awkward cases: partial preambles and fake headers.
noise_piece = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([PREAMBLE[:k] for k in range(1, 5)]),
    st.builds(lambda n: PREAMBLE + n.to_bytes(2, "big"), st.integers(0, 0xFFFF)),
    st.builds(lambda b: PREAMBLE + b"\x00\x04\x00\x00\x90" + b, st.binary(min_size=1, max_size=1)),
)
noise = st.lists(noise_piece, max_size=8).map(b"".join)
responses = st.builds(
    lambda status, data: encode_response(status, data),
    st.integers(0, 255),
    st.binary(max_size=300),
)


def overlaps_by_chance(garbage: bytes, frame: bytes) -> bool:
    """Is there a header in the garbage whose frame ends inside the real frame and whose
    checksum happens to hold? No framing can tell that from a real frame (1 in 256 chance per
    such header); the property excludes it. Garbage may still hold whole valid frames."""
    stream = garbage + frame
    index = stream.find(PREAMBLE)
    while 0 <= index < len(garbage):
        end = index + check_frame(stream[index:])
        if len(garbage) < end:
            return True
        index = stream.find(PREAMBLE, index + 1)
    return False


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 4000), max_size=20))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    parser = FrameParser()
    try:
        for chunk in chunked(data, cuts):
            for payload in parser.feed(chunk):
                assert len(payload) >= 2
    except ProtocolError:  # the only error type the parser may raise
        pass
    assert parser.pending <= len(data)


@settings(max_examples=300, deadline=None, database=None)
@given(noise, responses, st.lists(st.integers(0, 4000), max_size=12))
def test_a_valid_frame_after_garbage_is_never_lost(
    garbage: bytes, frame: bytes, cuts: list[int]
) -> None:
    assume(not overlaps_by_chance(garbage, frame))
    parser = FrameParser()
    out: list[bytes] = []
    for chunk in chunked(garbage + frame, cuts):
        out += parser.feed(chunk)
    assert out, "the valid frame was lost"
    assert out[-1] == frame_payload(frame)
    assert parser.pending == 0


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(responses, min_size=1, max_size=5), st.lists(st.integers(0, 4000), max_size=12))
def test_back_to_back_frames_all_arrive_in_order(frames: list[bytes], cuts: list[int]) -> None:
    parser = FrameParser()
    out: list[bytes] = []
    for chunk in chunked(b"".join(frames), cuts):
        out += parser.feed(chunk)
    assert out == [frame_payload(f) for f in frames]
