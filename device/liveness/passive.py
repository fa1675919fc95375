"""Passive presentation-attack cues from single frames (pure functions).

- moire: a screen's pixel grid, re-sampled by the camera, leaves sharp peaks in the high-frequency
  band of the face region's 2D spectrum; skin and camera noise spread their energy smoothly;
- frame edges: the bezel of a phone or tablet, or the edge of a photo, draws long straight lines
  around the face on three or four sides;
- glare: a glossy screen or photo reflects lamps as saturated patches on the face;
- colour and sharpness statistics, reported for calibration (not decisive on their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from device.vision.types import Box, Image

FFT_SIZE = 96
BAND = (0.28, 0.95)  # fraction of the Nyquist radius
REACH = 1.6  # a side's line lies within this many face sizes of the face box (_side_of)


@dataclass(frozen=True, slots=True)
class PassiveCues:
    moire_ratio: float
    frame_sides: int
    glare_fraction: float
    saturation_std: float
    sharpness: float


def _crop(rgb: Image, box: Box, scale: float) -> Image:
    height, width = rgb.shape[:2]
    cx, cy = box.center
    hw, hh = box.width * scale / 2.0, box.height * scale / 2.0
    x0, y0 = max(0, int(cx - hw)), max(0, int(cy - hh))
    x1, y1 = min(width, int(cx + hw)), min(height, int(cy + hh))
    return rgb[y0:y1, x0:x1]


def moire_ratio(grey: npt.NDArray[np.uint8]) -> float:
    """Strongest peak over the median magnitude in the high-frequency band of a grey crop."""
    if grey.size == 0 or min(grey.shape[:2]) < 8:
        return 0.0
    patch = cv2.resize(grey, (FFT_SIZE, FFT_SIZE), interpolation=cv2.INTER_AREA)
    data = patch.astype(np.float64)
    data = (data - data.mean()) * np.outer(np.hanning(FFT_SIZE), np.hanning(FFT_SIZE))
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(data)))
    freq = np.fft.fftshift(np.fft.fftfreq(FFT_SIZE)) / 0.5
    radius = np.hypot(*np.meshgrid(freq, freq))
    band = spectrum[(radius >= BAND[0]) & (radius <= BAND[1])]
    median = float(np.median(band))
    return float(band.max()) / median if median > 0 else 0.0


def side_region(shape: tuple[int, ...], box: Box) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the frame that frame_sides reads: the face box grown by REACH face
    sizes on every side, within the frame."""
    grow = REACH * max(box.width, box.height)
    height, width = shape[:2]
    x0, y0 = max(0, int(box.x0 - grow)), max(0, int(box.y0 - grow))
    x1, y1 = min(width, int(box.x1 + grow) + 1), min(height, int(box.y1 + grow) + 1)
    return x0, y0, max(x0, x1), max(y0, y1)


def frame_sides(region: npt.NDArray[np.uint8], box: Box) -> int:
    """How many sides of the face (0-4) have a long straight edge beyond the face box.

    `region` is the grey face region (side_region), `box` the face in its pixels. The face
    itself is blanked in the edge map: its own edges are never a side, and they were most of
    the edge pixels the line search had to visit. (Resampling the region to a smaller face
    was tried: the probabilistic Hough transform then agreed with full resolution on only
    41-51 of 111 footage frames; blanking agreed on all 111.)"""
    size = max(box.width, box.height)
    if region.size == 0 or size <= 0:
        return 0
    edges = cv2.Canny(cv2.GaussianBlur(region, (3, 3), 0), 60, 150)
    fx0, fy0 = max(0, int(box.x0) + 1), max(0, int(box.y0) + 1)
    edges[fy0 : max(fy0, int(box.y1)), fx0 : max(fx0, int(box.x1))] = 0
    lines = cv2.HoughLinesP(
        edges, 1, np.pi / 180, threshold=40, minLineLength=int(0.9 * size), maxLineGap=4
    )
    if lines is None:
        return 0
    sides: set[str] = set()
    for x0, y0, x1, y1 in lines[:, 0, :]:
        side = _side_of(float(x0), float(y0), float(x1), float(y1), box)
        if side:
            sides.add(side)
    return len(sides)


def _side_of(x0: float, y0: float, x1: float, y1: float, box: Box) -> str | None:
    margin = 0.15 * box.width
    vertical = abs(x1 - x0) < 0.2 * abs(y1 - y0)
    horizontal = abs(y1 - y0) < 0.2 * abs(x1 - x0)
    mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    reach = 1.6 * max(box.width, box.height)
    if vertical and box.y0 - reach < my < box.y1 + reach:
        if mx < box.x0 - margin:
            return "left"
        if mx > box.x1 + margin:
            return "right"
    if horizontal and box.x0 - reach < mx < box.x1 + reach:
        if my < box.y0 - margin:
            return "top"
        if my > box.y1 + margin:
            return "bottom"
    return None


def glare_fraction(face_rgb: Image) -> float:
    """Fraction of face pixels saturated in all three channels."""
    if face_rgb.size == 0:
        return 0.0
    low = np.full(3, 245, np.uint8)
    saturated = cv2.inRange(face_rgb, low, np.full(3, 255, np.uint8))
    return cv2.countNonZero(saturated) / float(saturated.size)


def _convert(rgb: Image, code: int) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(rgb, code), dtype=np.uint8)


def cues(rgb: Image, box: Box) -> PassiveCues:
    """All passive cues of one frame for the face in `box`."""
    face = _crop(rgb, box, 0.8)
    empty = not face.size
    grey_face = np.zeros((0, 0), np.uint8) if empty else _convert(face, cv2.COLOR_RGB2GRAY)
    hsv = np.zeros((0, 0, 3), np.uint8) if empty else _convert(face, cv2.COLOR_RGB2HSV)
    x0, y0, x1, y1 = side_region(rgb.shape, box)
    region = _convert(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    in_region = Box(box.x0 - x0, box.y0 - y0, box.x1 - x0, box.y1 - y0)
    sharp = float(cv2.Laplacian(grey_face, cv2.CV_64F).var()) if grey_face.size else 0.0
    return PassiveCues(
        moire_ratio=moire_ratio(grey_face),
        frame_sides=frame_sides(region, in_region),
        glare_fraction=glare_fraction(face),
        saturation_std=float(hsv[..., 1].std()) if hsv.size else 0.0,
        sharpness=sharp,
    )


@dataclass(frozen=True, slots=True)
class PassiveSummary:
    """Per-session medians; `score` 0 (nothing found) .. 1 (clear attack); `reasons` the cues
    that reached their thresholds."""

    score: float
    reasons: tuple[str, ...]
    moire_ratio: float
    frame_sides: float
    glare_fraction: float
    frames: int


def summarise(
    frames: Sequence[PassiveCues], moire_peak_ratio: float, min_sides: int, glare_max: float
) -> PassiveSummary:
    """Median of each cue over the session, each mapped to 0..1 against its threshold."""
    if not frames:
        return PassiveSummary(0.0, (), 0.0, 0.0, 0.0, 0)
    moire = float(np.median([f.moire_ratio for f in frames]))
    sides = float(np.median([f.frame_sides for f in frames]))
    glare = float(np.median([f.glare_fraction for f in frames]))
    evidence = {
        "passive_moire": min(1.0, moire / moire_peak_ratio),
        "passive_frame_edges": min(1.0, sides / min_sides),
        "passive_glare": min(1.0, glare / glare_max),
    }
    reasons = tuple(code for code, value in evidence.items() if value >= 1.0)
    score = max(evidence.values())
    return PassiveSummary(score, reasons, moire, sides, glare, len(frames))
