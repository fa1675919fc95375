"""Passive cues: moire on a screen-like pattern, bezel edges, glare; none on a natural face."""

from __future__ import annotations

import cv2
import numpy as np

from device.liveness.passive import cues, frame_sides, glare_fraction, moire_ratio, summarise
from device.liveness.scenes import FaceSource, ScreenAttack
from device.liveness.settings import LivenessSettings
from device.vision.types import Box


def _box(source: FaceSource) -> Box:
    xy = source.mesh[:, :2]
    return Box(
        float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())
    )


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def test_moire_peaks_on_a_screen_pattern_not_on_a_face(astronaut: FaceSource) -> None:
    threshold = LivenessSettings().moire_peak_ratio
    box = _box(astronaut)
    x0, y0, x1, y1 = (int(v) for v in (box.x0, box.y0, box.x1, box.y1))
    natural = _grey(astronaut.rgb[y0:y1, x0:x1])
    yy, xx = np.mgrid[0 : natural.shape[0], 0 : natural.shape[1]]
    grid = 1.0 + 0.25 * np.cos(2 * np.pi * (xx * 0.94 + yy * 0.34) / 3.1)
    screen = np.clip(natural * grid, 0, 255).astype(np.uint8)
    assert moire_ratio(natural) < threshold
    assert moire_ratio(screen) > threshold


def test_bezel_around_the_face_is_found(astronaut: FaceSource, rng: np.random.Generator) -> None:
    shown = ScreenAttack(astronaut, rng).frame(None, 0.0)
    assert frame_sides(_grey(astronaut.rgb), _box(astronaut)) <= 1
    screen_box = _box(astronaut)  # the face shrinks on the screen: measure around the centre
    cx, cy = screen_box.center
    small = Box(cx - 35, cy - 45, cx + 35, cy + 40)
    assert frame_sides(_grey(shown), small) >= 3


def test_glare_fraction_counts_saturated_pixels() -> None:
    face = np.full((40, 40, 3), 150, np.uint8)
    assert glare_fraction(face) == 0.0
    face[:10, :10] = 255
    assert abs(glare_fraction(face) - 100 / 1600) < 1e-9


def test_summary_flags_only_cues_over_threshold(astronaut: FaceSource) -> None:
    s = LivenessSettings()
    clean = summarise([cues(astronaut.rgb, _box(astronaut))] * 3, s.moire_peak_ratio,
                      s.frame_min_sides, s.glare_max_fraction)  # fmt: skip
    assert clean.reasons == () and clean.score < 1.0
