"""Fixtures of the quality-gate tests: the real analyzer (sha256-verified models)."""

from __future__ import annotations

import pytest

from device.session.settings import QualitySettings
from device.vision.analyzer import FaceAnalyzer
from tests.support.vision import load_analyzer


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return load_analyzer(num_threads=2)


@pytest.fixture(scope="session")
def settings() -> QualitySettings:
    return QualitySettings()
