"""The one place that creates a TFLite interpreter, and a typed wrapper around it.

Interpreters, in order of preference (both imported lazily, only when a model is opened):
- `ai_edge_litert` (LiteRT, the successor of tflite-runtime): wheels for x86_64 and 64-bit ARM,
  numpy 1 or 2;
- `tflite_runtime` 2.14: the only interpreter with 32-bit ARM (armv7l Raspberry Pi OS) wheels; it
  needs numpy < 2 (under numpy 2 it imports but cannot create an Interpreter).
Both run float models through XNNPACK, whose thread count is `num_threads`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import ModelError

Tensor = npt.NDArray[Any]
Array = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One input or output tensor: `scale` is 0.0 when the tensor is not quantized."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and np.issubdtype(self.dtype, np.integer)


def interpreter_factory() -> tuple[str, Callable[..., Any]]:
    """The preferred interpreter class available here, with its package name."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return "ai-edge-litert", Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter as LegacyInterpreter
    except ImportError as exc:
        raise ModelError(
            "no TFLite interpreter: install ai-edge-litert (x86_64, aarch64) "
            "or tflite-runtime 2.14 with numpy<2 (armv7l)"
        ) from exc
    return "tflite-runtime", LegacyInterpreter


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorSpec(
        index=int(detail["index"]),
        name=str(detail["name"]),
        shape=tuple(int(v) for v in detail["shape"]),
        dtype=np.dtype(detail["dtype"]),
        scale=float(scale),
        zero_point=int(zero_point),
    )


class TFLiteModel:
    """An allocated interpreter: `invoke(*inputs)` returns the outputs as arrays (float32 for
    quantized outputs). Not thread-safe: one model per inference thread."""

    def __init__(self, interpreter: Any, label: str, backend: str = "unknown") -> None:
        self._interpreter = interpreter
        self.label = label
        self.backend = backend
        self.inputs = tuple(_spec(d) for d in interpreter.get_input_details())
        self.outputs = tuple(_spec(d) for d in interpreter.get_output_details())

    @classmethod
    def open(cls, path: Path, num_threads: int = 1) -> TFLiteModel:
        """Load and allocate a .tflite file (callers verify its checksum first: see models.py)."""
        if num_threads < 1:
            raise ModelError(f"{path.name}: num_threads must be >= 1, got {num_threads}")
        backend, factory = interpreter_factory()
        try:
            interpreter = factory(model_path=str(path), num_threads=num_threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path.name}: cannot load TFLite model: {exc}") from exc
        return cls(interpreter, path.name, backend)

    def invoke(self, *inputs: Tensor) -> list[Tensor]:
        """Run once. Each input must match its tensor's shape (a missing leading batch axis of 1
        is added); float inputs to a quantized tensor are quantized with its scale/zero point."""
        if len(inputs) != len(self.inputs):
            raise ModelError(f"{self.label}: expected {len(self.inputs)} inputs, got {len(inputs)}")
        for spec, value in zip(self.inputs, inputs, strict=True):
            self._interpreter.set_tensor(spec.index, self._prepare(spec, value))
        try:
            self._interpreter.invoke()
        except RuntimeError as exc:
            raise ModelError(f"{self.label}: inference failed: {exc}") from exc
        return [self._read(spec) for spec in self.outputs]

    def _prepare(self, spec: TensorSpec, value: Tensor) -> Tensor:
        array = np.asarray(value)
        if array.shape != spec.shape and (1, *array.shape) == spec.shape:
            array = array[np.newaxis]
        if array.shape != spec.shape:
            raise ModelError(
                f"{self.label}: input {spec.name!r} needs shape {spec.shape}, got {array.shape}"
            )
        if np.issubdtype(array.dtype, np.floating):
            if spec.quantized:
                return quantize(array, spec)
            if np.issubdtype(spec.dtype, np.floating):
                return np.ascontiguousarray(array, dtype=spec.dtype)
        elif array.dtype == spec.dtype:
            return np.ascontiguousarray(array)
        raise ModelError(
            f"{self.label}: input {spec.name!r} needs {spec.dtype} "
            f"{'(or float, quantized here)' if spec.quantized else ''}, got {array.dtype}"
        )

    def _read(self, spec: TensorSpec) -> Tensor:
        raw: Tensor = np.array(self._interpreter.get_tensor(spec.index))
        return dequantize(raw, spec) if spec.quantized else raw


def quantize(values: Tensor, spec: TensorSpec) -> Tensor:
    """Float values to the tensor's integer type: round(x / scale) + zero_point, saturated."""
    info = np.iinfo(spec.dtype)
    scaled = np.round(values.astype(np.float32) / spec.scale) + spec.zero_point
    quantized: Tensor = np.clip(scaled, info.min, info.max).astype(spec.dtype)
    return quantized


def dequantize(values: Tensor, spec: TensorSpec) -> Array:
    """Integer tensor values to float32: (q - zero_point) * scale."""
    return ((values.astype(np.float32) - spec.zero_point) * spec.scale).astype(np.float32)
