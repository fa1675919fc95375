"""FaceAnalyzer end to end on real models: loading through the manifest, observations, limits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from device.errors import ModelError
from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings

Image = npt.NDArray[np.uint8]


def test_analyze_gives_detection_mesh_and_pose(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    (face,) = analyzer.analyze(astronaut)
    assert face.mesh is not None and face.pose is not None
    assert face.mesh.iris is None
    assert face.detection.score > 0.85
    status = analyzer.status()
    assert status["frames"] >= 1 and set(status["last_ms"]) == {"detect", "mesh", "total"}


def test_iris_on_request(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    (face,) = analyzer.analyze(astronaut, with_iris=True)
    assert face.mesh is not None and face.mesh.iris is not None
    assert face.mesh.iris.shape == (2, 5, 2)


def test_max_faces_limits_the_work(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    crop = astronaut[20:270, 100:350]
    pair = np.hstack([crop, np.ascontiguousarray(crop[:, ::-1])])
    assert len(analyzer.analyze(pair)) == 2
    (best,) = analyzer.analyze(pair, max_faces=1)
    assert best.mesh is not None
    assert analyzer.analyze(pair, max_faces=0) == []
    assert analyzer.analyze(np.zeros((240, 320, 3), np.uint8)) == []


def test_model_ids_name_the_loaded_files(analyzer: FaceAnalyzer) -> None:
    ids = analyzer.model_ids
    assert set(ids) == {"detect", "landmarks", "iris"}
    assert ids["detect"].startswith("face_detection_short_range@")
    assert all(len(v.split("@")[1]) == 12 for v in ids.values())


def test_full_range_detector_by_config(models_dir: Path, astronaut: Image) -> None:
    settings = VisionSettings(models_dir=str(models_dir), num_threads=1, detector="full_range")
    analyzer = FaceAnalyzer.load(settings)
    assert analyzer.model_ids["detect"].startswith("face_detection_full_range@")
    assert len(analyzer.analyze(astronaut)) == 1


def test_load_refuses_a_tampered_mesh_model(models_dir: Path, tmp_path: Path) -> None:
    for name in ("manifest.json", *(p.name for p in models_dir.glob("*.tflite"))):
        shutil.copyfile(models_dir / name, tmp_path / name)
    entries = json.loads((tmp_path / "manifest.json").read_text())["models"]
    mesh_file = next(e["file"] for e in entries if e["task"] == "landmarks")
    with (tmp_path / mesh_file).open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match=mesh_file):
        FaceAnalyzer.load(VisionSettings(models_dir=str(tmp_path), num_threads=1))


def test_relative_models_dir_resolves_against_base(models_dir: Path) -> None:
    analyzer = FaceAnalyzer.load(VisionSettings(num_threads=1), base_dir=models_dir.parent)
    assert analyzer.detector.layout.input_size == 128


def test_rejects_non_rgb_frames(analyzer: FaceAnalyzer) -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        analyzer.analyze(np.zeros((100, 100), np.uint8))


def test_accepts_a_mirrored_view(analyzer: FaceAnalyzer, astronaut: Image) -> None:
    (face,) = analyzer.analyze(astronaut[:, ::-1])
    assert face.detection.box.center[0] == pytest.approx(512 - 225, abs=10)


def test_detector_choice_in_the_config_file() -> None:
    from device.config import parse
    from device.errors import ConfigError

    assert parse('[vision]\ndetector = "full_range"\n').vision.detector == "full_range"
    with pytest.raises(ConfigError, match="detector"):
        parse('[vision]\ndetector = "long_range"\n')
