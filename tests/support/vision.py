"""The real face analyzer (sha256-verified models in models/) and image helpers, shared by the
vision, quality and liveness tests (import from here, never from a conftest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings
from device.vision.types import Image

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"
LFW_IMAGES = REPO.parent / "shared" / "data" / "lfw-dev" / "images"
# Measured with the short-range detector on skimage.data.astronaut() (512x512): the face box.
ASTRONAUT_FACE_BOX = (178.0, 81.0, 272.0, 175.0)


def load_analyzer(num_threads: int = 2) -> FaceAnalyzer:
    return FaceAnalyzer.load(VisionSettings(models_dir=str(MODELS_DIR), num_threads=num_threads))


def rotate(image: Image, degrees: float) -> Image:
    """The image rotated about its centre, counter-clockwise as displayed for positive degrees."""
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
    return np.asarray(cv2.warpAffine(image, matrix, (width, height)), dtype=np.uint8)
