"""Aligned 112x112 face crops for evaluation and calibration, made with the project's own
detection (BlazeFace), face mesh and five-point alignment (device.vision.analyzer / align).

A picture in which no face is found falls back to a centred crop and is counted as a failure to
enrol, so that an evaluation still scores every pair.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from device.errors import FacetermError
from device.vision.align import ALIGNED_SIZE, align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings
from device.vision.types import FaceObservation, Image

CENTRE_CROP_FRACTION = 0.5
MAX_FACES = 4


@dataclass(frozen=True, slots=True)
class Crop:
    """An aligned crop; `found` is False for the centred fallback (a failure to enrol)."""

    crop: Image
    found: bool


def centre_crop(rgb: Image, fraction: float = CENTRE_CROP_FRACTION) -> Image:
    """The centred square of side `fraction` x the shorter side, resized to 112x112."""
    height, width = rgb.shape[:2]
    side = max(1, round(min(height, width) * fraction))
    top, left = (height - side) // 2, (width - side) // 2
    square = rgb[top : top + side, left : left + side]
    size = (ALIGNED_SIZE, ALIGNED_SIZE)
    return np.ascontiguousarray(cv2.resize(square, size, interpolation=cv2.INTER_AREA))


def central_face(faces: list[FaceObservation], width: int, height: int) -> FaceObservation:
    """The face whose box centre lies nearest the picture's centre (LFW's subject convention)."""

    def distance(face: FaceObservation) -> float:
        x, y = face.detection.box.center
        return float(np.hypot(x - width / 2.0, y - height / 2.0))

    return min(faces, key=distance)


class CropMaker:
    """Detect, mesh and align one picture at a time; counts pictures with no face."""

    def __init__(self, analyzer: FaceAnalyzer) -> None:
        self._analyzer = analyzer
        self.failures = 0
        self.total = 0

    @classmethod
    def load(cls, models_dir: Path, num_threads: int = 1) -> CropMaker:
        """The analyzer of `models_dir`, its models verified against the manifest."""
        settings = VisionSettings(models_dir=str(models_dir), num_threads=num_threads)
        return cls(FaceAnalyzer.load(settings))

    def crop(self, rgb: Image) -> Crop:
        self.total += 1
        faces = self._analyzer.analyze(rgb, max_faces=MAX_FACES)
        if faces:
            face = central_face(faces, rgb.shape[1], rgb.shape[0])
            try:
                return Crop(align_face(rgb, five_points(face)), True)
            except ValueError:
                pass
        self.failures += 1
        return Crop(centre_crop(rgb), False)


def read_rgb(path: Path) -> Image:
    """An image file as HxWx3 uint8 RGB."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FacetermError(f"{path}: cannot read image")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def lfw_sample(data_dir: Path, count: int, seed: int = 0) -> list[Image]:
    """`count` pictures from an LFW-style images/ folder, at most one per person first."""
    people = sorted(p for p in (data_dir / "images").iterdir() if p.is_dir())
    rng = random.Random(seed)
    rng.shuffle(people)
    chosen: list[Path] = []
    for person in people:
        files = sorted(person.glob("*.jpg"))
        if files:
            chosen.append(rng.choice(files))
        if len(chosen) >= count:
            break
    return [read_rgb(path) for path in chosen]


def packaged_images() -> list[Image]:
    """Face pictures shipped by a registry package (scikit-image's astronaut, public domain),
    with mirrored, rotated and rescaled copies so that calibration sees some variety."""
    from skimage import data

    astronaut = np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]
    images = [astronaut, np.ascontiguousarray(astronaut[:, ::-1])]
    centre = (astronaut.shape[1] / 2.0, astronaut.shape[0] / 3.0)
    for angle in (-15.0, -7.0, 7.0, 15.0):
        for scale in (0.8, 1.0, 1.2):
            matrix = cv2.getRotationMatrix2D(centre, angle, scale)
            size = (astronaut.shape[1], astronaut.shape[0])
            images.append(cv2.warpAffine(astronaut, matrix, size, borderMode=cv2.BORDER_REFLECT))
    return images
