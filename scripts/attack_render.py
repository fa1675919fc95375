"""SYNTHETIC presentation attacks rendered from real footage frames, written from the physics of
each instrument and not from any detector's threshold (used by scripts/eval_antispoof.py).

  print     the frame printed on paper (ink gamut: black level, contrast and saturation loss,
            halftone dots, paper grain), held 25 cm from the camera and turned/tilted up to
            60 degrees (a planar homography), over the room 2 m behind it; with the screen flash
            on, the print gets the inverse-square share of the light (the room almost none).
  cutout    the print with the face's surroundings cut away: the room shows around the head.
  replay    the frame shown on a phone screen: re-encoded with the display's gamma 2.2 and a
            blue white point, emissive (it does not darken with the room), a sub-pixel grid
            re-imaged by the camera (moire), a refresh band, a black bezel and a glare streak.

Everything here is SYNTHETIC: renderings are not prints, screens or people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
FAMILIES = ("print", "print_flash", "cutout", "replay")


@dataclass(frozen=True, slots=True)
class Pose:
    yaw_deg: float
    pitch_deg: float
    distance_m: float = 0.25


def _float(image: Image) -> npt.NDArray[np.float32]:
    return image.astype(np.float32) / 255.0


def _uint8(image: npt.NDArray[np.float32]) -> Image:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def printed(photo: Image, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Reflectance of the printed photo: ink gamut, halftone, paper grain (0..1)."""
    lin = _float(photo) ** 2.2
    grey = lin.mean(axis=2, keepdims=True)
    lin = grey + 0.75 * (lin - grey)  # ink saturation loss
    lin = 0.06 + 0.82 * lin  # paper white 0.88, ink black 0.06
    h, w = lin.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    period = 3.1  # halftone cell in print pixels
    screen = 0.5 + 0.5 * np.cos(2 * math.pi * (xx + yy) / period) * np.cos(
        2 * math.pi * (xx - yy) / period)
    lin = lin * (0.93 + 0.07 * screen[..., None])
    grain = cv2.GaussianBlur(rng.normal(0, 0.02, (h, w)).astype(np.float32), (0, 0), 1.2)
    return np.clip(lin * (1.0 + grain[..., None]), 0, 1).astype(np.float32)


def _homography(size: tuple[int, int], pose: Pose, focal_px: float) -> npt.NDArray[np.float64]:
    """Image of a plane of size (w, h) px at distance, rotated by yaw then pitch."""
    w, h = size
    yaw, pitch = math.radians(pose.yaw_deg), math.radians(pose.pitch_deg)
    ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0],
                   [-math.sin(yaw), 0, math.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)],
                   [0, math.sin(pitch), math.cos(pitch)]])
    rot = ry @ rx
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0],
                        [-w / 2, h / 2, 0]])
    cam = corners @ rot.T + np.array([0, 0, focal_px])
    projected = cam[:, :2] * (focal_px / cam[:, 2:3])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(src, projected.astype(np.float32))


def place(plane: npt.NDArray[np.float32], room: npt.NDArray[np.float32], pose: Pose,
          mask: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.float32]:
    """The plane (linear light) seen by a 640x480 camera over the room, turned by pose."""
    height, width = room.shape[:2]
    focal = 1.1 * width
    matrix = _homography((plane.shape[1], plane.shape[0]), pose, focal)
    shift = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
    full = shift @ matrix
    warped = cv2.warpPerspective(plane, full, (width, height), flags=cv2.INTER_AREA)
    alpha_src = np.ones(plane.shape[:2], np.float32) if mask is None else mask
    alpha = cv2.warpPerspective(alpha_src, full, (width, height), flags=cv2.INTER_LINEAR)
    return room * (1 - alpha[..., None]) + warped * alpha[..., None]


def camera(linear: npt.NDArray[np.float32], rng: np.random.Generator) -> Image:
    """Re-imaging by the kiosk camera: optics blur, shot noise, sRGB encoding."""
    blurred = cv2.GaussianBlur(linear, (0, 0), 0.8)
    shot = rng.normal(0, 0.006, blurred.shape).astype(np.float32)
    noisy = blurred + shot * np.sqrt(blurred + 0.02)
    return _uint8(np.clip(noisy, 0, 1) ** (1 / 2.2))


def room_of(frame: Image) -> npt.NDArray[np.float32]:
    """The room 2 m behind: the footage frame itself, defocused (the print is at 25 cm)."""
    return cv2.GaussianBlur(_float(frame) ** 2.2, (0, 0), 4.0)


def flash_gain(distance_m: float, room_m: float = 2.0) -> tuple[float, float]:
    """Share of a screen flash reaching a plane at distance_m and the room at room_m, relative
    to the ambient light (inverse square, screen ~ 0.4 of ambient at 25 cm)."""
    at_print = 0.4 * (0.25 / distance_m) ** 2
    return at_print, 0.4 * (0.25 / room_m) ** 2


def render_print(frame: Image, face: tuple[float, float, float, float], pose: Pose,
                 rng: np.random.Generator, flash_rgb: tuple[float, float, float] | None = None,
                 cutout: bool = False) -> Image:
    x0, y0, x1, y1 = face
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 2.4
    sx0, sy0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    photo = frame[sy0 : int(cy + side / 2), sx0 : int(cx + side / 2)]
    scale = 300.0 / max(photo.shape[:2])  # a face-sized print filling ~half the frame
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    reflect = printed(photo, rng)
    mask = None
    if cutout:
        h, w = reflect.shape[:2]
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (w // 2, h // 2), (int(w * 0.26), int(h * 0.36)), 0, 0, 360, 1.0, -1)
    room = room_of(frame)
    light = np.ones(3, np.float32)
    room_light = np.ones(3, np.float32)
    if flash_rgb is not None:
        near, far = flash_gain(pose.distance_m)
        colour = np.asarray(flash_rgb, np.float32)
        light, room_light = light + near * colour, room_light + far * colour
    tilt = math.cos(math.radians(pose.yaw_deg)) * math.cos(math.radians(pose.pitch_deg))
    lit = reflect * light * (0.55 + 0.45 * tilt)  # Lambert: a turned sheet catches less
    linear = place(lit, room * room_light, pose, mask)
    return camera(np.clip(linear, 0, 1), rng)


def render_replay(frame: Image, face: tuple[float, float, float, float], pose: Pose,
                  rng: np.random.Generator, refresh_phase: float = 0.0) -> Image:
    x0, y0, x1, y1 = face
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * 2.2
    sx0, sy0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    shown = frame[sy0 : int(cy + side / 2), sx0 : int(cx + side / 2)]
    panel = cv2.resize(shown, (3 * 96, 3 * 128), interpolation=cv2.INTER_AREA)
    lin = _float(panel) ** 2.2 * np.array([0.92, 0.97, 1.08], np.float32)  # 9300 K white
    stripes = np.zeros_like(lin)
    for channel in range(3):  # R, G, B sub-pixel columns
        stripes[:, channel::3, channel] = 3.0
    lin = lin * stripes * 0.7 + 0.02  # emissive, black level of an LCD
    h = lin.shape[0]
    band = 1.0 - 0.08 * (np.abs(((np.arange(h) / h + refresh_phase) % 1.0) - 0.5) < 0.05)
    lin = lin * band[:, None, None].astype(np.float32)
    screen = cv2.resize(lin, (300, 400), interpolation=cv2.INTER_LINEAR)  # re-imaged: moire
    glare = np.linspace(0, 1, screen.shape[1], dtype=np.float32)[None, :, None]
    screen = screen + 0.12 * np.exp(-((glare - 0.7) ** 2) / 0.005)
    bezel = np.full((440, 330, 3), 0.01, np.float32)
    bezel[20:420, 15:315] = screen
    linear = place(bezel, room_of(frame) * 0.6, pose)
    return camera(np.clip(linear, 0, 1), rng)


def render(family: str, frame: Image, face: tuple[float, float, float, float],
           rng: np.random.Generator) -> Image:
    """One attack frame of `family`, at a random pose (turned and tilted up to 60 degrees)."""
    pose = Pose(float(rng.uniform(-60, 60)), float(rng.uniform(-30, 30)),
                float(rng.uniform(0.20, 0.30)))
    if family == "print":
        return render_print(frame, face, pose, rng)
    if family == "print_flash":
        colour = tuple(float(c) for c in rng.choice([0.0, 1.0], 3))
        return render_print(frame, face, pose, rng, flash_rgb=colour)  # type: ignore[arg-type]
    if family == "cutout":
        return render_print(frame, face, pose, rng, cutout=True)
    if family == "replay":
        return render_replay(frame, face, pose, rng, float(rng.uniform()))
    raise ValueError(f"unknown attack family {family!r}")
