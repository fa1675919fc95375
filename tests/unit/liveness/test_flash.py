"""Screen flash: reflective skin follows the emitted colours; a screen or a flat photo does not."""

from __future__ import annotations

import itertools

import numpy as np

from device.liveness.flash import FlashRecorder, plan_colours
from device.liveness.scenes import FaceSource
from device.liveness.synth import camera_noise, face_mask, reflect_flash
from device.vision.types import Box

MIN_CORR, MIN_GAIN = 0.6, 0.03


def _record(
    source: FaceSource,
    rng: np.random.Generator,
    face_gain: float,
    background_gain: float,
    uniform: bool = False,
) -> FlashRecorder:
    colours = plan_colours(rng, 8)
    mask = (
        np.ones(source.rgb.shape[:2], np.float32)
        if uniform
        else face_mask(source.rgb.shape, source.mesh)
    )
    xy = source.mesh[:, :2]
    box = Box(
        float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())
    )
    recorder = FlashRecorder(colours)
    for colour in colours:
        for _ in range(3):
            lit = reflect_flash(source.rgb, mask, colour, face_gain, background_gain)
            recorder.add(colour, camera_noise(lit, rng, 3.0), box)
    return recorder


def test_reflective_face_follows_the_flash(astronaut: FaceSource, rng: np.random.Generator) -> None:
    result = _record(astronaut, rng, face_gain=0.2, background_gain=0.03).result(2)
    assert result.passed(MIN_CORR, MIN_GAIN), result
    assert result.correlation > 0.9


def test_emissive_screen_does_not_follow(astronaut: FaceSource, rng: np.random.Generator) -> None:
    result = _record(astronaut, rng, face_gain=0.0, background_gain=0.0).result(2)
    assert not result.passed(MIN_CORR, MIN_GAIN), result
    assert abs(result.gain) < MIN_GAIN


def test_flat_photo_reflects_evenly_and_fails(
    astronaut: FaceSource, rng: np.random.Generator
) -> None:
    result = _record(astronaut, rng, 0.2, 0.2, uniform=True).result(2)
    assert not result.passed(MIN_CORR, MIN_GAIN), result


def test_colour_plans_vary_and_never_repeat_back_to_back() -> None:
    plans = [plan_colours(np.random.default_rng(s), 6) for s in range(50)]
    assert len(set(plans)) == 50
    assert all(a != b for plan in plans for a, b in itertools.pairwise(plan))
