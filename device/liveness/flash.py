"""Screen-flash check: does the skin reflect the colours the screen emits, in order?

The kiosk screen shows a random sequence of colours. Skin a few decimetres from the screen
reflects them diffusely, far more than the room behind the person, so the face's colour minus the
colour of a ring around it follows the emitted colours. The comparison is a log ratio, so an even
reflection (a photo: face and surround on the same sheet) cancels whatever the albedo. A screen
held up to the camera emits its own light (the face does not follow), and a photo reflects the
flash evenly over face and surround.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from device.vision.types import Box, Image

RGB = tuple[int, int, int]
PALETTE: tuple[RGB, ...] = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (0, 255, 255),
    (255, 0, 255),
    (255, 255, 255),
    (40, 40, 40),
)
MIN_SAMPLES = 6


def plan_colours(rng: np.random.Generator, count: int) -> tuple[RGB, ...]:
    """`count` palette colours, never the same twice in a row, at least three distinct."""
    while True:
        picked: list[RGB] = []
        for _ in range(count):
            options = [c for c in PALETTE if not picked or c != picked[-1]]
            picked.append(options[int(rng.integers(len(options)))])
        if len(set(picked)) >= min(3, count):
            return tuple(picked)


def _clip_box(box: Box, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    cx, cy = box.center
    hw, hh = box.width * scale / 2.0, box.height * scale / 2.0
    x0, y0 = max(0, int(cx - hw)), max(0, int(cy - hh))
    x1, y1 = min(width, int(cx + hw)), min(height, int(cy + hh))
    return x0, y0, x1, y1


def region_means(rgb: Image, box: Box) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean RGB of the inner face (central 60 % of the box) and of a ring around the face
    (between 1.3x and 1.9x the box). Saturated pixels stay in: dropping them would make the
    pixel selection itself follow the flash."""
    height, width = rgb.shape[:2]
    fx0, fy0, fx1, fy1 = _clip_box(box, 0.6, width, height)
    face = rgb[fy0:fy1, fx0:fx1].reshape(-1, 3)
    ox0, oy0, ox1, oy1 = _clip_box(box, 1.9, width, height)
    ix0, iy0, ix1, iy1 = _clip_box(box, 1.3, width, height)
    mask = np.zeros((height, width), bool)
    mask[oy0:oy1, ox0:ox1] = True
    mask[iy0:iy1, ix0:ix1] = False
    return _mean(face), _mean(rgb[mask])


def _mean(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    if pixels.size == 0:
        return np.zeros(3)
    return np.asarray(pixels.reshape(-1, 3).mean(axis=0), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FlashResult:
    """`correlation` of the face-to-ring log colour ratio with the emitted colour (-1..1);
    `gain` the ratio's change (natural log) per full-scale emitted level; `samples` frames."""

    correlation: float
    gain: float
    samples: int
    lag_frames: int

    def passed(self, min_correlation: float, min_gain: float) -> bool:
        return self.correlation >= min_correlation and self.gain >= min_gain


def flash_correlation(
    emitted: Sequence[RGB],
    face: Sequence[npt.NDArray[np.float64]],
    ring: Sequence[npt.NDArray[np.float64]],
    max_lag: int = 0,
) -> FlashResult:
    """Best correlation over frame lags 0..max_lag (camera and display latency)."""
    results = [_at_lag(emitted, face, ring, lag) for lag in range(max_lag + 1)]
    usable = [r for r in results if r.samples >= MIN_SAMPLES] or results[:1]
    return max(usable, key=lambda r: r.correlation)


def _at_lag(
    emitted: Sequence[RGB],
    face: Sequence[npt.NDArray[np.float64]],
    ring: Sequence[npt.NDArray[np.float64]],
    lag: int,
) -> FlashResult:
    count = len(emitted) - lag
    if count < MIN_SAMPLES:
        return FlashResult(0.0, 0.0, max(0, count), lag)
    sent = np.asarray(emitted[:count], dtype=np.float64) / 255.0
    seen = np.log1p(np.asarray(face[lag:], dtype=np.float64)) - np.log1p(
        np.asarray(ring[lag:], dtype=np.float64)
    )
    sent = sent - sent.mean(axis=0)
    seen = seen - seen.mean(axis=0)
    x, y = sent.ravel(), seen.ravel()
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    corr = float(x @ y) / denom if denom > 0 else 0.0
    gain = float(x @ y) / float(x @ x) if float(x @ x) > 0 else 0.0
    return FlashResult(corr, gain, count, lag)


class FlashRecorder:
    """Collects (emitted colour, face mean, ring mean) per frame during the flash phase."""

    def __init__(self, colours: Sequence[RGB]) -> None:
        self.colours = tuple(colours)
        self._emitted: list[RGB] = []
        self._face: list[npt.NDArray[np.float64]] = []
        self._ring: list[npt.NDArray[np.float64]] = []

    def add(self, emitted: RGB, rgb: Image, box: Box) -> None:
        face, ring = region_means(rgb, box)
        self._emitted.append(emitted)
        self._face.append(face)
        self._ring.append(ring)

    def result(self, max_lag: int) -> FlashResult:
        return flash_correlation(self._emitted, self._face, self._ring, max_lag)
