"""Shared fixtures: the real face analyzer and skimage's astronaut as a 320x240 frame."""

from __future__ import annotations

import numpy as np
import pytest

from device.liveness.evaluate import load_sources
from device.liveness.scenes import FaceSource
from device.vision.analyzer import FaceAnalyzer
from tests.support.vision import load_analyzer


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return load_analyzer(num_threads=1)


@pytest.fixture(scope="session")
def astronaut(analyzer: FaceAnalyzer) -> FaceSource:
    sources = load_sources(analyzer, None, 0)
    assert sources and sources[0].name == "astronaut"
    return sources[0]


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
