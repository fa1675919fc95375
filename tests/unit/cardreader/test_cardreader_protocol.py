"""Table tests of the GA 467 SAM frame codec."""

from __future__ import annotations

import pytest

from device.cardreader.protocol import (
    MAX_BODY_LEN,
    PREAMBLE,
    Cmd,
    FrameParser,
    ProtocolError,
    Status,
    check_frame,
    checksum,
    decode_card_data,
    decode_command,
    decode_response,
    describe_status,
    encode_card_data,
    encode_command,
    encode_response,
    frame_payload,
)

# Command frames as documented by reader vendors: LEN=3 (CMD PARA CHK), CHK = 00^03^CMD^PARA.
COMMAND_TABLE = [
    (Cmd.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (Cmd.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (Cmd.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (Cmd.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (Cmd.RESET, "AA AA AA 96 69 00 03 10 FF EC"),
    (Cmd.SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    (Cmd.READ_TEXT_PHOTO_FP, "AA AA AA 96 69 00 03 30 10 23"),
]


@pytest.mark.parametrize(("code", "wire"), COMMAND_TABLE)
def test_command_frames_match_the_wire_format(code: Cmd, wire: str) -> None:
    frame = encode_command(code)
    assert frame == bytes.fromhex(wire)
    assert check_frame(frame) == len(frame)
    command = decode_command(frame_payload(frame))
    assert command.code == code


RESPONSE_TABLE = [
    # status, data, wire
    (Status.FIND_OK, bytes(4), "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"),
    (Status.FIND_FAILED, b"", "AA AA AA 96 69 00 04 00 00 80 84"),
    (Status.SUCCESS, bytes(8), "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C"),
    (Status.SELECT_FAILED, b"", "AA AA AA 96 69 00 04 00 00 81 85"),
    (Status.READ_FAILED, b"", "AA AA AA 96 69 00 04 00 00 41 45"),
]


@pytest.mark.parametrize(("status", "data", "wire"), RESPONSE_TABLE)
def test_response_frames_round_trip(status: int, data: bytes, wire: str) -> None:
    frame = encode_response(status, data)
    assert frame == bytes.fromhex(wire)
    response = decode_response(frame_payload(frame))
    assert (response.status, response.data, response.sw1, response.sw2) == (status, data, 0, 0)


def test_ok_means_success_or_card_found() -> None:
    assert decode_response(bytes([0, 0, Status.SUCCESS])).ok
    assert decode_response(bytes([0, 0, Status.FIND_OK])).ok
    assert not decode_response(bytes([0, 0, Status.FIND_FAILED])).ok


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0x90, "success"),
        (0x9F, "card found"),
        (0x80, "no card found"),
        (0x81, "selecting the card failed"),
        (0x41, "reading the card failed"),
        (0x10, "SAM received a frame with a bad checksum"),
        (0x11, "SAM received a frame with a bad length"),
        (0x21, "SAM received an invalid command"),
        (0x23, "operation not permitted"),
        (0x24, "unrecognised error"),
        (0x66, "SAM module not authorised"),
        (0x05, "unknown status 0x05"),
    ],
)
def test_status_meanings(code: int, text: str) -> None:
    assert describe_status(code) == text


def test_checksum_is_xor_of_length_and_payload() -> None:
    frame = encode_response(Status.SUCCESS, b"\x01\x02\x03")
    assert frame[-1] == checksum(frame[5:-1])
    assert checksum(b"") == 0
    assert checksum(b"\xff\x0f") == 0xF0


CHECK_TABLE = [
    # bytes, expected check_frame result
    (b"", 0),
    (PREAMBLE[:3], 0),
    (PREAMBLE, 0),
    (PREAMBLE + b"\x00", 0),
    (b"\x00" + PREAMBLE, -1),
    (PREAMBLE + b"\x00\x00", -1),  # length below minimum
    (PREAMBLE + b"\x00\x02", -1),
    (PREAMBLE + (MAX_BODY_LEN + 1).to_bytes(2, "big"), -1),
    (PREAMBLE + b"\x00\x04\x00\x00\x90", 0),  # checksum still missing
    (PREAMBLE + b"\x00\x04\x00\x00\x90\x94", 11),
    (PREAMBLE + b"\x00\x04\x00\x00\x90\x95", -1),  # bad checksum
    (PREAMBLE + b"\x00\x04\x00\x00\x90\x94\xaa", 11),  # trailing bytes are not part of it
]


@pytest.mark.parametrize(("data", "expected"), CHECK_TABLE)
def test_check_frame_table(data: bytes, expected: int) -> None:
    assert check_frame(data) == expected


def test_parser_handles_byte_at_a_time_and_concatenated_frames() -> None:
    frames = [encode_response(Status.FIND_OK, bytes(4)), encode_response(Status.SUCCESS)]
    parser = FrameParser()
    out: list[bytes] = []
    for byte in b"".join(frames):
        out += parser.feed(bytes([byte]))
    assert out == [frame_payload(f) for f in frames]
    assert parser.feed(b"".join(frames)) == [frame_payload(f) for f in frames]
    assert parser.frames == 4 and parser.checksum_errors == 0 and parser.resyncs == 0


def test_parser_resyncs_after_garbage_and_counts() -> None:
    good = encode_response(Status.SUCCESS, b"ok")
    parser = FrameParser()
    assert parser.feed(b"\x01\x02\xaa\xaa" + good) == [frame_payload(good)]
    assert parser.resyncs == 1 and parser.discarded_bytes == 4


def test_parser_skips_a_bad_checksum_frame_and_keeps_the_next() -> None:
    good = encode_response(Status.SUCCESS, b"ok")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    parser = FrameParser()
    assert parser.feed(bad + good) == [frame_payload(good)]
    assert parser.checksum_errors == 1
    assert parser.pending == 0


def test_parser_counts_impossible_lengths() -> None:
    good = encode_response(Status.SUCCESS)
    parser = FrameParser()
    assert parser.feed(PREAMBLE + b"\xff\xff" + good) == [frame_payload(good)]
    assert parser.length_errors == 1


def test_fake_header_cannot_swallow_a_real_frame() -> None:
    good = encode_response(Status.FIND_OK, bytes(4))
    parser = FrameParser()
    # A header claiming 1000 bytes, then a complete real frame: the real one is delivered now.
    assert parser.feed(PREAMBLE + b"\x03\xe8\x00" + good) == [frame_payload(good)]
    assert parser.pending == 0


def test_parser_refuses_non_bytes() -> None:
    with pytest.raises(ProtocolError):
        FrameParser().feed("text")  # type: ignore[arg-type]


def test_parser_reset_forgets_partial_frame() -> None:
    good = encode_response(Status.SUCCESS)
    parser = FrameParser()
    parser.feed(good[:6])
    parser.reset()
    assert parser.feed(good) == [frame_payload(good)]


def test_short_payloads_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        decode_response(b"\x00\x00")
    with pytest.raises(ProtocolError):
        decode_command(b"\x20")


def test_card_data_round_trip_with_and_without_fingerprint() -> None:
    text, photo, finger = b"t" * 256, b"p" * 1024, b"f" * 1024
    plain = decode_card_data(encode_card_data(text, photo))
    assert (plain.text, plain.photo, plain.fingerprint) == (text, photo, None)
    full = decode_card_data(encode_card_data(text, photo, finger), with_fingerprint=True)
    assert (full.text, full.photo, full.fingerprint) == (text, photo, finger)
    assert len(encode_response(Status.SUCCESS, encode_card_data(text, photo))) == 7 + 1288


@pytest.mark.parametrize(
    "data",
    [
        b"\x01",
        encode_card_data(b"t" * 255, b"p" * 1024),
        encode_card_data(b"t" * 256, b"p" * 1025),
        encode_card_data(b"t" * 256, b"p" * 1024)[:-1],
    ],
)
def test_card_data_with_wrong_lengths_is_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_card_data(data)


def test_oversized_payload_is_refused() -> None:
    with pytest.raises(ProtocolError):
        encode_response(Status.SUCCESS, bytes(MAX_BODY_LEN))
