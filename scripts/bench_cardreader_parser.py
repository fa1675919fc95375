"""Throughput of the GA 467 frame parser on adversarial input fed one byte at a time (a serial
read returns single bytes when the line is slow), against the 11.5 kB/s of a 115200-baud line.

The adversarial stream is fake headers back to back, each claiming the longest legal body:
every preamble is a frame start that stays incomplete for 4 kB. Also measured: random noise and
valid read responses.

    python scripts/bench_cardreader_parser.py [--kib 200] [--max-s 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time

from device.cardreader.protocol import MAX_BODY_LEN, PREAMBLE, FrameParser, encode_response

LINE_RATE_BPS = 115_200 / 10  # 8N1: ten bits per byte


def fake_headers(size: int) -> bytes:
    piece = PREAMBLE + MAX_BODY_LEN.to_bytes(2, "big") + b"\x00"
    return (piece * (size // len(piece) + 1))[:size]


def valid_frames(size: int) -> bytes:
    frame = encode_response(0x90, os.urandom(1295))
    return (frame * (size // len(frame) + 1))[:size]


def rate(data: bytes, max_s: float) -> dict[str, float]:
    """Bytes per second fed one at a time (stopping after max_s seconds)."""
    parser = FrameParser()
    view = memoryview(data)
    started = time.perf_counter()
    fed = 0
    for fed in range(1, len(data) + 1):
        parser.feed(view[fed - 1 : fed])
        if fed % 256 == 0 and time.perf_counter() - started > max_s:
            break
    elapsed = time.perf_counter() - started
    return {"bytes": fed, "seconds": round(elapsed, 3), "bytes_per_s": round(fed / elapsed),
            "x_line_rate": round(fed / elapsed / LINE_RATE_BPS, 1), "frames": parser.frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=200)
    parser.add_argument("--max-s", type=float, default=20.0)
    args = parser.parse_args()
    size = args.kib * 1024
    results = {
        "fake_headers": rate(fake_headers(size), args.max_s),
        "random_noise": rate(os.urandom(size), args.max_s),
        "valid_frames": rate(valid_frames(size), args.max_s),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
