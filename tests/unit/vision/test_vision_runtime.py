"""The TFLite wrapper: shape and dtype checks, int8 quantization of inputs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from device.errors import ModelError
from device.vision.models import open_model
from device.vision.runtime import TensorSpec, TFLiteModel, dequantize, quantize


@pytest.fixture(scope="module")
def detector_model(models_dir: Path) -> TFLiteModel:
    return open_model(models_dir, "face_detection_short_range", num_threads=1)


def test_invoke_returns_every_output(detector_model: TFLiteModel) -> None:
    outputs = detector_model.invoke(np.zeros((1, 128, 128, 3), dtype=np.float32))
    assert sorted(o.shape for o in outputs) == [(1, 896, 1), (1, 896, 16)]
    assert all(o.dtype == np.float32 for o in outputs)


def test_a_missing_batch_axis_is_added(detector_model: TFLiteModel) -> None:
    with_batch = detector_model.invoke(np.full((1, 128, 128, 3), 0.2, dtype=np.float32))
    without = detector_model.invoke(np.full((128, 128, 3), 0.2, dtype=np.float64))
    for a, b in zip(with_batch, without, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros((1, 64, 64, 3), np.float32), r"shape \(1, 128, 128, 3\)"),
        (np.zeros((1, 128, 128, 3), np.uint8), "float32"),
    ],
)
def test_wrong_inputs_are_model_errors(
    detector_model: TFLiteModel, value: np.ndarray[Any, Any], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        detector_model.invoke(value)
    with pytest.raises(ModelError, match="expected 1 inputs"):
        detector_model.invoke(value, value)


def test_num_threads_must_be_positive(models_dir: Path) -> None:
    with pytest.raises(ModelError, match="num_threads"):
        TFLiteModel.open(models_dir / "face_detection_short_range.tflite", num_threads=0)


def test_a_file_that_is_no_model_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.tflite"
    path.write_bytes(b"not a flatbuffer" * 64)
    with pytest.raises(ModelError, match=r"junk\.tflite"):
        TFLiteModel.open(path)


INT8 = TensorSpec(0, "x", (1, 4), np.dtype(np.int8), scale=0.5, zero_point=-3)


def test_quantize_rounds_and_saturates() -> None:
    values = np.array([[0.0, 1.0, -200.0, 200.0]], dtype=np.float32)
    q = quantize(values, INT8)
    assert q.dtype == np.int8
    assert q.tolist() == [[-3, -1, -128, 127]]
    np.testing.assert_allclose(dequantize(q[:, :2], INT8), [[0.0, 1.0]])


class _Int8Interpreter:
    """An interpreter double with one int8 input and one int8 output (output = input)."""

    def __init__(self) -> None:
        self.tensors: dict[int, np.ndarray[Any, Any]] = {}

    def get_input_details(self) -> list[dict[str, Any]]:
        return [
            {
                "index": 0,
                "name": "x",
                "shape": np.array([1, 4]),
                "dtype": np.int8,
                "quantization": (0.5, -3),
            }
        ]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [
            {
                "index": 1,
                "name": "y",
                "shape": np.array([1, 4]),
                "dtype": np.int8,
                "quantization": (0.25, 1),
            }
        ]

    def set_tensor(self, index: int, value: np.ndarray[Any, Any]) -> None:
        self.tensors[index] = value

    def invoke(self) -> None:
        self.tensors[1] = self.tensors[0].copy()

    def get_tensor(self, index: int) -> np.ndarray[Any, Any]:
        return self.tensors[index]


def test_int8_models_take_and_give_floats() -> None:
    fake = _Int8Interpreter()
    model = TFLiteModel(fake, "fake-int8")
    (out,) = model.invoke(np.array([1.0, 2.0, 0.0, -1.0]))
    assert fake.tensors[0].dtype == np.int8
    assert fake.tensors[0].tolist() == [[-1, 1, -3, -5]]
    np.testing.assert_allclose(out, [[-0.5, 0.0, -1.0, -1.5]])
    (raw,) = model.invoke(np.array([[5, 6, 7, 8]], dtype=np.int8))
    assert raw.dtype == np.float32
    with pytest.raises(ModelError, match="int8"):
        model.invoke(np.array([[5, 6, 7, 8]], dtype=np.uint8))


def test_a_real_int8_model_runs_from_float_input(
    models_dir: Path, astronaut: npt.NDArray[np.uint8]
) -> None:
    """sface_int8 (int8 in and out) against the float model on the aligned astronaut."""
    from device.vision.align import align_face, five_points
    from device.vision.analyzer import FaceAnalyzer
    from device.vision.models import Manifest
    from device.vision.settings import VisionSettings

    manifest = Manifest.load(models_dir)
    names = {e.name for e in manifest.entries}
    if not {"sface_int8", "sface_fp16"} <= names:
        pytest.skip("the SFace models are not built yet (scripts/build_models.py)")
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(models_dir), num_threads=1))
    (face,) = analyzer.analyze(astronaut)
    crop = align_face(astronaut, five_points(face)).astype(np.float32)
    int8 = manifest.open(manifest.find(name="sface_int8"), 2)
    assert int8.inputs[0].quantized and int8.outputs[0].quantized
    (quantized,) = int8.invoke(crop)
    (reference,) = manifest.open(manifest.find(name="sface_fp16"), 2).invoke(crop)
    assert quantized.dtype == np.float32
    a, b = quantized.ravel(), reference.ravel()
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.9
