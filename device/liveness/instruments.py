"""SYNTHETIC presentation-attack instruments, rendered from physics over real footage frames.

Written from how each instrument makes light, not from any detector's threshold:

- light: images are handled in linear light (sRGB decoded with gamma 2.2) and re-encoded by the
  kiosk camera (optics blur, shot noise, gamma) once, at the end;
- the screen flash falls off with the square of the distance: a surface at d metres gets
  g * (0.35 / d)^2 of the flash, where g is the share a face at 0.35 m gets (the bona fide
  puppet's flash model, device/liveness/puppet.py); the room 2 m behind gets almost none;
- a print is a diffuse reflector: ink gamut (paper white 0.88, ink black 0.06, saturation loss),
  lit by the room (ambient, a little less when turned) and by the flash (Lambert: cos of the
  angle to the screen, which stands at the camera); its halftone and paper fibres are far
  finer than a camera pixel at 20-30 cm, so the lens removes them;
- a screen emits: the content decoded by its own gamma 2.2, its black level and white point,
  whatever the room does; its glass mirrors the kiosk screen (1-4 % Fresnel reflection over the
  part of the glass that faces it, the flash included) and the room; its RGB sub-pixel stripes
  reach the camera through the lens and pixel (MTF) and alias into moire only when the pixel
  pitch is coarse for the distance; the display refresh leaves a faint band (rolling shutter);
  the bezel is black glass;
- a sheet or device is a plane placed in 3-D (planar.plane_homography) by the hand holding it.

Nothing here is camera data: renderings of real footage are still renderings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from device.liveness.planar import plane_homography

Image = npt.NDArray[np.uint8]
Linear = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float64]
FOCAL_PX = 600.0  # a 640-wide sensor with a 56-degree field of view (planar.plane_view)
SIZE = (640, 480)
REF_DISTANCE_M, ROOM_DISTANCE_M = 0.35, 2.0
LENS_SIGMA_PX = 0.8
INK_BLACK, PAPER_WHITE, INK_SATURATION = 0.06, 0.88, 0.75


LEVELS = 4096
_DECODE = (np.arange(256, dtype=np.float32) / 255.0) ** 2.2
# Indexed by the square root of linear light, so the dark end (steep under gamma 2.2) keeps
# every 8-bit level.
_ENCODE = np.asarray((np.arange(LEVELS) / (LEVELS - 1)) ** (2 / 2.2) * 255.0 + 0.5, np.uint8)


def linear(rgb: Image) -> Linear:
    """sRGB (gamma 2.2) to linear light, 0..1."""
    return np.asarray(_DECODE[rgb], dtype=np.float32)


def encode(light: Linear) -> Image:
    """Linear light to 8-bit gamma 2.2 (through a 4096-level table)."""
    root = cv2.sqrt(np.clip(light, 0.0, 1.0).astype(np.float32))
    scaled = (root * (LEVELS - 1) + 0.5).astype(np.uint16)
    return np.asarray(_ENCODE[scaled], dtype=np.uint8)


def flash_share(gain_at_ref: float, distance_m: float) -> float:
    """The flash share reaching a surface at distance_m (inverse square from REF_DISTANCE_M)."""
    return gain_at_ref * (REF_DISTANCE_M / distance_m) ** 2


class CameraOptics:
    """The kiosk camera re-imaging linear light: lens blur, shot noise, gamma encoding. The
    noise comes from a bank drawn once per session (each frame takes one of its images, flipped
    at random), which costs a fraction of fresh noise and looks the same to any detector that
    does not compare the noise of distant frames."""

    def __init__(self, rng: np.random.Generator, bank: int = 6) -> None:
        shape = (SIZE[1], SIZE[0], 3)
        self.rng = rng
        self.bank = [rng.standard_normal(shape, dtype=np.float32) for _ in range(bank)]

    def capture(self, light: Linear) -> Image:
        blurred = np.asarray(cv2.GaussianBlur(light, (0, 0), LENS_SIGMA_PX), np.float32)
        shot = self.bank[int(self.rng.integers(len(self.bank)))]
        flip = int(self.rng.integers(4))
        shot = shot[:: 1 - 2 * (flip & 1), :: 1 - 2 * (flip >> 1)]
        spread = cv2.sqrt(np.maximum(blurred, 0.0) + 0.02)
        return encode(blurred + cv2.multiply(shot, spread, scale=0.006))


def lens_mtf(cycles_per_px: float) -> float:
    """Contrast left of a pattern at this frequency by the lens (Gaussian) and the pixel (box)."""
    box = abs(math.sin(math.pi * cycles_per_px) / (math.pi * cycles_per_px)) if cycles_per_px else 1
    return box * math.exp(-2 * (math.pi * LENS_SIGMA_PX * cycles_per_px) ** 2)


def ink(photo: Image, rng: np.random.Generator) -> Linear:
    """Reflectance (0..1, linear) of the photo printed on paper."""
    light = linear(photo)
    grey = light.mean(axis=2, keepdims=True)
    light = grey + INK_SATURATION * (light - grey)
    reflect = INK_BLACK + (PAPER_WHITE - INK_BLACK) * light
    grain = rng.normal(0.0, 0.01, reflect.shape[:2]).astype(np.float32)
    return np.asarray(np.clip(reflect * (1 + grain[..., None]), 0, 1), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class PrintPose:
    """Where the hand holds the plane: turned (yaw about its vertical, pitch about its
    horizontal centre line, degrees), its centre at (x, y) camera pixels, at distance_m."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    x: float = SIZE[0] / 2
    y: float = SIZE[1] / 2
    distance_m: float = 0.25

    def facing(self) -> float:
        """cos of the angle between the plane's normal and the camera axis."""
        return math.cos(math.radians(self.yaw_deg)) * math.cos(math.radians(self.pitch_deg))


def placement(size: tuple[int, int], pose: PrintPose) -> Matrix:
    """Homography from plane pixels (scaled so 1 px = 1 camera px when facing the camera) to the
    camera image."""
    w, h = size
    turned = plane_homography((w, h), pose.yaw_deg, pose.pitch_deg, FOCAL_PX, FOCAL_PX)
    shift = np.array([[1, 0, pose.x - w / 2], [0, 1, pose.y - h / 2], [0, 0, 1]], np.float64)
    return np.asarray(shift @ turned, dtype=np.float64)


def put(plane: Linear, alpha: npt.NDArray[np.float32] | None, matrix: Matrix,
        behind: Linear) -> Linear:  # fmt: skip
    """The plane (linear light) over `behind`, through `matrix`."""
    size = (behind.shape[1], behind.shape[0])
    warped = cv2.warpPerspective(plane, matrix, size, flags=cv2.INTER_LINEAR)
    cover = np.ones(plane.shape[:2], np.float32) if alpha is None else alpha
    seen = np.asarray(cv2.warpPerspective(cover, matrix, size, flags=cv2.INTER_LINEAR), np.float32)
    return np.asarray(cv2.blendLinear(warped, behind, seen, 1.0 - seen), dtype=np.float32)


def room(frame: Image, box: tuple[float, float, float, float]) -> Linear:
    """The room 2 m behind the instrument: the footage's own background with the person painted
    out (inpainted at low resolution), out of focus (the camera focuses on the instrument)."""
    small = cv2.resize(frame, (SIZE[0] // 4, SIZE[1] // 4), interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = (v / 4 for v in box)
    mask = np.zeros(small.shape[:2], np.uint8)
    cx, w = (x0 + x1) / 2, x1 - x0
    cv2.ellipse(mask, (int(cx), int((y0 + y1) / 2)), (int(0.85 * w), int(0.95 * (y1 - y0))), 0,
                0, 360, (255,), -1)  # fmt: skip
    cv2.rectangle(mask, (int(cx - 1.4 * w), int(y1)), (int(cx + 1.4 * w), small.shape[0]),
                  (255,), -1)  # fmt: skip
    painted = cv2.inpaint(small, mask, 5, cv2.INPAINT_TELEA)
    full = np.asarray(cv2.resize(painted, SIZE, interpolation=cv2.INTER_CUBIC), np.uint8)
    return np.asarray(cv2.GaussianBlur(linear(full), (0, 0), 5.0), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Light:
    """The light on the scene now: the flash colour on screen (0..1 per channel, or None) and
    the share g a face at 0.35 m gets of it."""

    flash: tuple[float, float, float] | None
    gain_at_ref: float

    def at(self, distance_m: float, facing: float = 1.0) -> npt.NDArray[np.float32]:
        """Illumination (ambient 1 plus the flash) per channel at a surface."""
        if self.flash is None:
            return np.ones(3, np.float32)
        share = flash_share(self.gain_at_ref, distance_m) * max(facing, 0.0)
        return np.asarray(1.0 + share * np.asarray(self.flash, np.float32), dtype=np.float32)


def lit_print(reflectance: Linear, light: Light, pose: PrintPose) -> Linear:
    """A print under the room light (a turned sheet catches a little less) and the flash."""
    ambient = 0.75 + 0.25 * pose.facing()
    flash = light.at(pose.distance_m, pose.facing()) - 1.0
    return np.asarray(reflectance * (ambient + flash), dtype=np.float32)


def lit_room(behind: Linear, light: Light) -> Linear:
    if light.flash is None:
        return behind
    return np.asarray(behind * light.at(ROOM_DISTANCE_M), dtype=np.float32)
