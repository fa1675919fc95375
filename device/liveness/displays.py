"""SYNTHETIC replay screens (phones and tablets) from physics: device/liveness/instruments.py
says what each term is. A screen emits its content whatever the room does; only its glass
mirrors the kiosk screen and the room."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from device.liveness.instruments import (
    FOCAL_PX,
    Image,
    Light,
    Linear,
    PrintPose,
    lens_mtf,
    linear,
    placement,
    put,
)

# The fundamental of a stripe one third of the pitch wide, relative to the mean: 2 sin(pi/3)/(pi/3).
STRIPE_FUNDAMENTAL = 2 * math.sin(math.pi / 3) / (math.pi / 3)
UI_WHITE = (0.85, 0.85, 0.85)  # the kiosk screen between flashes (a light page)


@dataclass(frozen=True, slots=True)
class Device:
    """An active area of width_m x height_m behind glass, bezel_m of black glass around it."""

    name: str
    width_m: float
    height_m: float
    ppi: tuple[float, float]
    bezel_m: float


DEVICES = (
    Device("phone (portrait)", 0.068, 0.146, (400.0, 460.0), 0.004),
    Device("tablet 8 inch", 0.176, 0.120, (264.0, 326.0), 0.008),
    Device("tablet 11 inch", 0.248, 0.178, (132.0, 264.0), 0.010),
)


@dataclass(frozen=True, slots=True)
class Display:
    """One screen as a session meets it (drawn by `draw_display`)."""

    device: Device
    ppi: float
    black: float  # emitted black over white (LCD 0.001-0.005)
    white: tuple[float, float, float]  # white point (blue-ish phones)
    brightness: float  # emitted white over paper white in the room light
    glass: float  # Fresnel reflectance of the glass (anti-reflective 0.01, bare 0.04)
    mirror_rows: tuple[float, float]  # share of the glass, top to bottom, that mirrors the kiosk
    kiosk: float  # the kiosk screen's luminance over this screen's white
    refresh_depth: float
    refresh_period_s: float


def draw_display(rng: np.random.Generator) -> Display:
    device = DEVICES[int(rng.integers(len(DEVICES)))]
    # The kiosk screen sits below its camera: the glass, which mirrors twice its own size of the
    # kiosk's face around the camera, shows it in its lower part.
    top = float(rng.uniform(0.35, 0.75))
    return Display(
        device=device,
        ppi=float(rng.uniform(*device.ppi)),
        black=float(rng.uniform(0.001, 0.005)),
        white=(float(rng.uniform(0.9, 0.97)), 0.98, float(rng.uniform(1.0, 1.1))),
        brightness=float(rng.uniform(0.8, 2.0)),
        glass=float(rng.uniform(0.01, 0.04)),
        mirror_rows=(top, 1.0),
        kiosk=float(rng.uniform(0.5, 1.5)),
        refresh_depth=float(rng.uniform(0.0, 0.05)),
        refresh_period_s=float(rng.uniform(0.4, 3.0)),
    )


def active_px(display: Display, distance_m: float) -> tuple[int, int]:
    """The active area's size in camera pixels when it faces the camera at distance_m."""
    scale = FOCAL_PX / distance_m
    return int(display.device.width_m * scale), int(display.device.height_m * scale)


def fill(content: Image, size: tuple[int, int], centre: tuple[float, float],
         zoom: float) -> Image:  # fmt: skip
    """What the attacker shows full screen: `content` scaled by zoom, `centre` (content pixels)
    in the middle, cropped to or padded (black) to `size`."""
    w, h = size
    matrix = np.array([[zoom, 0, w / 2 - zoom * centre[0]], [0, zoom, h / 2 - zoom * centre[1]]])
    return np.asarray(cv2.warpAffine(content, matrix, (w, h), flags=cv2.INTER_AREA), np.uint8)


def emitted(display: Display, shown: Image, distance_m: float, now_s: float) -> Linear:
    """The light the active area sends to the camera (before the glass), with its sub-pixel
    stripes as the camera resolves them and the refresh band."""
    light = display.black + (1 - display.black) * linear(shown)
    light = light * np.asarray(display.white, np.float32) * display.brightness
    pitch_px = 0.0254 / display.ppi * FOCAL_PX / distance_m  # camera px per screen pixel
    contrast = min(1.0, STRIPE_FUNDAMENTAL * lens_mtf(1.0 / pitch_px))
    if contrast > 1e-4:
        u = np.arange(light.shape[1], dtype=np.float32) / pitch_px
        for channel in range(3):
            light[..., channel] *= 1 + contrast * np.cos(2 * np.pi * (u + channel / 3))[None, :]
    rows = np.arange(light.shape[0], dtype=np.float32) / light.shape[0]
    phase = (now_s / display.refresh_period_s) % 1.0
    band = 1 - display.refresh_depth * (np.abs(((rows + phase) % 1.0) - 0.5) < 0.06)
    return np.asarray(light * band[:, None, None], dtype=np.float32)


def glass_reflection(display: Display, size: tuple[int, int], light: Light,
                     room_mean: npt.NDArray[np.float32]) -> Linear:  # fmt: skip
    """What the glass mirrors: the room everywhere (a faint veil), the kiosk screen (flash
    colour, or its light page) over the rows that face it."""
    w, h = size
    veil = np.broadcast_to(display.glass * room_mean, (h, w, 3)).astype(np.float32)
    kiosk = np.asarray(light.flash if light.flash is not None else UI_WHITE, np.float32)
    top, bottom = (int(r * h) for r in display.mirror_rows)
    veil[top:bottom] += display.glass * display.kiosk * display.brightness * kiosk
    return veil


def screen_image(display: Display, shown: Image, pose: PrintPose, light: Light, behind: Linear,
                 room_mean: npt.NDArray[np.float32], now_s: float) -> Linear:  # fmt: skip
    """The device (active area, bezel, glass) as the camera sees it over `behind`."""
    active = emitted(display, shown, pose.distance_m, now_s)
    bezel = int(display.device.bezel_m * FOCAL_PX / pose.distance_m)
    body = cv2.copyMakeBorder(active, bezel, bezel, bezel, bezel, cv2.BORDER_CONSTANT,
                              value=(0.0, 0.0, 0.0))  # fmt: skip
    size = (body.shape[1], body.shape[0])
    body = body + glass_reflection(display, size, light, room_mean)
    return put(np.asarray(body, np.float32), None, placement(size, pose), behind)
