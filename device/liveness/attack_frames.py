"""Single SYNTHETIC attack frames over real footage frames, for frame-level scoring of a passive
model (scripts/eval_antispoof.py): the instruments of attack_scenes.py (the same physics,
instruments.py and displays.py), at one random pose each instead of a whole session."""

from __future__ import annotations

import numpy as np

from device.liveness.attack_scenes import FACE_CENTRE, ellipse_alpha, sheet_reflectance
from device.liveness.displays import active_px, draw_display, fill, screen_image
from device.liveness.instruments import (
    SIZE,
    CameraOptics,
    Image,
    Light,
    PrintPose,
    lit_print,
    lit_room,
    placement,
    put,
    room,
)
from device.liveness.puppet import FACE_WIDTH_SHARE

FAMILIES = ("print", "print_flash", "cutout", "replay")
Box = tuple[float, float, float, float]


def framed(frame: Image, box: Box) -> Image:
    """The frame cropped and scaled as the puppet's footage is: the face FACE_WIDTH_SHARE of
    the width, at FACE_CENTRE (what the attacker printed or plays)."""
    x0, y0, x1, y1 = box
    zoom = FACE_WIDTH_SHARE * SIZE[0] / max(x1 - x0, 1.0)
    middle = ((x0 + x1) / 2, (y0 + y1) / 2 + (SIZE[1] / 2 - FACE_CENTRE[1]) / zoom)
    return fill(frame, SIZE, middle, zoom)


def pose_of(rng: np.random.Generator) -> PrintPose:
    """A hand-held pose turned and tilted up to 60 / 30 degrees, 20-30 cm from the camera."""
    return PrintPose(float(rng.uniform(-60, 60)), float(rng.uniform(-30, 30)),
                distance_m=float(rng.uniform(0.20, 0.30)))  # fmt: skip


def render(family: str, frame: Image, box: Box, rng: np.random.Generator) -> Image:
    """One attack frame of `family` made from the real `frame` whose face is at `box`."""
    if family not in FAMILIES:
        raise ValueError(f"unknown attack family {family!r}")
    photo, pose, behind = framed(frame, box), pose_of(rng), room(frame, box)
    face_px = float(rng.uniform(150, 240))
    if family == "replay":
        display = draw_display(rng)
        size = active_px(display, pose.distance_m)
        zoom = min(face_px, 0.8 * size[0]) / (FACE_WIDTH_SHARE * SIZE[0])
        shown = fill(photo, size, FACE_CENTRE, zoom)
        light = Light(None, 0.0)
        mean = np.asarray(behind.mean(axis=(0, 1)), np.float32)
        seen = screen_image(display, shown, pose, light, behind, mean, float(rng.uniform(0, 3)))
        return CameraOptics(rng, bank=1).capture(seen)
    colour = tuple(float(c) for c in rng.choice([0.0, 1.0], 3))
    light = Light(colour if family == "print_flash" else None,  # type: ignore[arg-type]
                  float(rng.uniform(0.05, 0.2)))  # fmt: skip
    reflectance = sheet_reflectance(photo, face_px, rng)
    size = (reflectance.shape[1], reflectance.shape[0])
    alpha = ellipse_alpha(size) if family == "cutout" else None
    sheet = lit_print(reflectance, light, pose)
    return CameraOptics(rng, bank=1).capture(
        put(sheet, alpha, placement(size, pose), lit_room(behind, light))
    )
