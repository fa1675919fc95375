"""Run sessions on virtual time: frames from images, no threads, no clock.

The runner reads no clock, so a session can be replayed as fast as the models run: frame i of a
stream is stamped `start_s + i / fps`, and after the last frame time moves on in ticks until the
session decides (every phase has a timeout, so it always does). Used by `faceterm verify` and by
the end-to-end tests; the daemon drives the same runner with the real camera and clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.camera.base import Frame
from device.camera.replay import iter_images, list_sources
from device.session.runner import SessionRunner
from device.vision.types import Image


@dataclass
class Collector:
    """on_view / on_record sinks that keep what they receive, for printing or asserting."""

    views: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    personal: list[dict[str, str]] = field(default_factory=list)

    def on_view(self, view: dict[str, Any]) -> None:
        self.views.append(view)

    def on_record(self, record: dict[str, Any], personal: dict[str, str]) -> None:
        self.records.append(record)
        self.personal.append(personal)


def replay_images(
    path: Path, size: tuple[int, int], loop: bool, max_frames: int
) -> Iterator[Image]:
    """The replay camera's decoding (letterboxed to size, RGB), at most max_frames frames."""
    files = list_sources(path)
    stream: Iterable[Image] = iter_images(files, size)
    if loop:
        stream = itertools.chain.from_iterable(iter_images(files, size) for _ in itertools.count())
    return itertools.islice(stream, max_frames)


def drive(
    runner: SessionRunner,
    images: Iterable[Image],
    fps: float,
    until: Callable[[], bool],
    max_s: float,
    start_s: float = 0.0,
    tick_s: float = 0.1,
) -> float:
    """Feed images as frames at fps from start_s, then ticks, until `until()` or max_s; returns
    the virtual time reached."""
    now = start_s
    for sequence, rgb in enumerate(images):
        frame = Frame(rgb=rgb, sequence=sequence, timestamp_s=now)
        runner.on_frame(frame, now)
        runner.on_tick(now)
        if until() or now - start_s >= max_s:
            return now
        now += 1.0 / fps
    while not until() and now - start_s < max_s:
        runner.on_tick(now)
        now += tick_s
    return now
