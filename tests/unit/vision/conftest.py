"""Shared fixtures of the vision tests: the real models in models/ and scikit-image's astronaut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings
from device.vision.types import FaceObservation

REPO = Path(__file__).resolve().parents[3]
MODELS_DIR = REPO / "models"
LFW_IMAGES = REPO.parent / "shared" / "data" / "lfw-dev" / "images"
# Measured with the short-range detector on skimage.data.astronaut() (512x512): the face box.
ASTRONAUT_FACE_BOX = (178.0, 81.0, 272.0, 175.0)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def astronaut() -> npt.NDArray[np.uint8]:
    data = pytest.importorskip("skimage.data")
    image = np.ascontiguousarray(data.astronaut(), dtype=np.uint8)
    image.setflags(write=False)
    return image


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer.load(VisionSettings(models_dir=str(MODELS_DIR), num_threads=2))


@pytest.fixture(scope="session")
def astronaut_face(analyzer: FaceAnalyzer, astronaut: npt.NDArray[np.uint8]) -> FaceObservation:
    faces = analyzer.analyze(astronaut, with_iris=True)
    assert len(faces) == 1
    return faces[0]


def rotate(image: npt.NDArray[np.uint8], degrees: float) -> npt.NDArray[np.uint8]:
    """The image rotated about its centre, counter-clockwise as displayed for positive degrees."""
    import cv2

    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), degrees, 1.0)
    return np.asarray(cv2.warpAffine(image, matrix, (width, height)), dtype=np.uint8)
