"""Fixtures of the quality-gate tests: the real analyzer (sha256-verified models)."""

from __future__ import annotations

import pytest
from quality_support import REPO

from device.session.settings import QualitySettings
from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer.load(VisionSettings(models_dir=str(REPO / "models")))


@pytest.fixture(scope="session")
def settings() -> QualitySettings:
    return QualitySettings()
