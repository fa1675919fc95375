"""Shared fixtures of the vision tests: the real models in models/ and scikit-image's astronaut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from device.vision.analyzer import FaceAnalyzer
from device.vision.types import FaceObservation
from tests.support.vision import MODELS_DIR, load_analyzer


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
    return load_analyzer(num_threads=2)


@pytest.fixture(scope="session")
def astronaut_face(analyzer: FaceAnalyzer, astronaut: npt.NDArray[np.uint8]) -> FaceObservation:
    faces = analyzer.analyze(astronaut, with_iris=True)
    assert len(faces) == 1
    return faces[0]

