"""Helpers of the quality-gate tests: lfw-dev images and one-frame quality reports."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from device.match.enrol import read_rgb
from device.session.settings import QualitySettings
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.quality import QualityReport, assess

REPO = Path(__file__).resolve().parents[3]
LFW = Path(os.environ.get("FACETERM_LFW", REPO.parent / "shared" / "data" / "lfw-dev"))


def lfw_image(name: str) -> np.ndarray:
    """An lfw-dev image by file stem, e.g. Al_Sharpton_0001 (skips the test when absent)."""
    if not (LFW / "images").is_dir():
        pytest.skip(f"lfw-dev not found at {LFW} (set FACETERM_LFW): real-image cases skipped")
    person = name.rsplit("_", 1)[0]
    return read_rgb(LFW / "images" / person / f"{name}.jpg")


def report_of(analyzer: FaceAnalyzer, rgb: np.ndarray, settings: QualitySettings) -> QualityReport:
    """The gates on one still frame (its own landmarks as the whole motion history)."""
    faces = analyzer.analyze(rgb)
    aligned = None
    history = []
    if len(faces) == 1:
        points = five_points(faces[0])
        aligned = align_face(rgb, points)
        history = [points]
    return assess(rgb, faces, aligned, history, settings)
