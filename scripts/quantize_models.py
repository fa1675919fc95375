#!/usr/bin/env python3
"""fp16 and int8 variants of BlazeFace (short range) and the face mesh, measured against the
shipped models on real footage (issue 16, item 3). Nothing here changes models/.

    .venv/bin/python scripts/quantize_models.py calibrate --work .cache/quant
    .venv-build/bin/python scripts/quantize_models.py convert --work .cache/quant
    .venv/bin/python scripts/quantize_models.py measure --work .cache/quant

calibrate (run-time venv): footage frames (scripts/fetch_footage.py) at 15 fps, 640x480: every
  4th frame's letterboxed detector input and mesh crop (the crop FaceLandmarker takes) for
  calibration; the frames 2 after them, held out, for the measurement.
convert (build venv of scripts/build_models.sh, with tf2onnx): each MediaPipe .tflite to ONNX
  (tf2onnx --tflite, NCHW input), then onnx2tf -oiqt per-channel (float32, float16,
  dynamic-range int8, integer-only int8) with the footage calibration.
measure (run-time venv, ai-edge-litert, XNNPACK, one thread): per variant the mean landmark
  distance to the shipped model's output in inter-ocular units (mesh: 468 points; detector:
  box corners and 6 keypoints of the shipped model's best anchor, and how often the best anchor
  is the same), and the invoke time (minimum per round, rounds interleaved across models).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SOURCES = {"mesh": ("face_landmark", "input_1", 192), "det": ("face_detection_short_range",
                                                               "input", 128)}  # fmt: skip
VARIANTS = ("float32", "float16", "dynamic_range_quant", "integer_quant", "full_integer_quant")
SCALE = {"mesh": (1 / 255.0, 0.0), "det": (1 / 127.5, -1.0)}  # uint8 -> model input
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"


def calibrate(work: Path) -> None:
    import numpy as np

    from device.liveness.footage import camera_frames, load_labels
    from device.vision.analyzer import FaceAnalyzer
    from device.vision.detect import letterbox
    from device.vision.landmarks import face_roi
    from device.vision.settings import VisionSettings

    clips = load_labels(ROOT / "tests" / "data" / "footage_labels.json")
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(MODELS), num_threads=1))
    sets: dict[str, dict[str, list[Any]]] = {"calib": {"mesh": [], "det": []},
                                             "held": {"mesh": [], "det": []}}  # fmt: skip
    for name in clips:
        for index, (_, rgb) in enumerate(camera_frames(ROOT / ".cache" / "footage" / name,
                                                       clips[name], 15.0)):  # fmt: skip
            part = {0: "calib", 2: "held"}.get(index % 4)
            faces = analyzer.analyze(rgb) if part else []
            if part and len(faces) == 1 and faces[0].mesh is not None:
                sets[part]["det"].append(letterbox(rgb, 128)[0])
                sets[part]["mesh"].append(face_roi(faces[0].detection).crop(rgb, 192))
    work.mkdir(parents=True, exist_ok=True)
    for part, kinds in sets.items():
        for kind, images in kinds.items():
            np.save(work / f"{part}_{kind}_uint8.npy", np.stack(images))
    for kind, (a, b) in SCALE.items():
        data = np.load(work / f"calib_{kind}_uint8.npy").astype(np.float32) * a + b
        np.save(work / f"calib_{kind}_float.npy", data)
    # onnx2tf fetches a sample file from the internet unless it finds one in its folder
    det = np.load(work / "calib_det_uint8.npy")[:20].astype(np.float32) / 255.0
    np.save(work / ONNX2TF_SAMPLE, det)
    print(f"calibrate: {len(sets['calib']['mesh'])} calibration, {len(sets['held']['mesh'])} "
          f"held-out frames in {work}")  # fmt: skip


def convert(work: Path) -> None:
    for kind, (model, input_name, _) in SOURCES.items():
        onnx = work / f"{kind}.onnx"
        run(work, [sys.executable, "-m", "tf2onnx.convert", "--tflite",
                   str(MODELS / f"{model}.tflite"), "--output", onnx.name, "--opset", "17",
                   "--inputs-as-nchw", input_name], f"{kind}_tf2onnx.log")  # fmt: skip
        run(work, [sys.executable, "-m", "onnx2tf", "-i", onnx.name, "-o", f"out_{kind}",
                   "-oiqt", "-qt", "per-channel", "-cind", input_name,
                   f"calib_{kind}_float.npy", "[[[[0.0,0.0,0.0]]]]", "[[[[1.0,1.0,1.0]]]]",
                   "-n"], f"{kind}_onnx2tf.log")  # fmt: skip


def run(work: Path, command: list[str], log_name: str) -> None:
    print("convert: " + " ".join(command))
    with (work / log_name).open("w") as log:
        subprocess.run(command, cwd=work, check=True, stdout=log, stderr=subprocess.STDOUT)


def _interpreter(path: Path) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


def _outputs(interpreter: Any, image: Any, kind: str) -> list[Any]:
    """The model's outputs (largest first, dequantised) for one uint8 image."""
    import numpy as np

    a, b = SCALE[kind]
    detail = interpreter.get_input_details()[0]
    tensor = image.astype(np.float32) * a + b
    if detail["dtype"] == np.int8:
        s, z = detail["quantization"]
        tensor = np.clip(np.round(tensor / s + z), -128, 127).astype(np.int8)
    interpreter.set_tensor(detail["index"], tensor[None])
    interpreter.invoke()
    values = []
    for out in interpreter.get_output_details():
        value = interpreter.get_tensor(out["index"]).astype(np.float32)
        if out["dtype"] == np.int8:
            s, z = out["quantization"]
            value = (value - z) * s
        values.append(value.reshape(-1))
    return sorted(values, key=lambda v: -v.size)


def _error(kind: str, ref: list[Any], got: list[Any]) -> tuple[float, bool]:
    """Mean point distance in inter-ocular units; whether the best anchor is the same."""
    import numpy as np

    if kind == "mesh":
        r, g = ref[0].reshape(468, 3)[:, :2], got[0].reshape(468, 3)[:, :2]
        return float(np.linalg.norm(r - g, axis=1).mean() / np.linalg.norm(r[33] - r[263])), True
    best = int(np.argmax(ref[1]))
    r, g = ref[0].reshape(-1, 16)[best].reshape(8, 2), got[0].reshape(-1, 16)[best].reshape(8, 2)
    eyes = float(np.linalg.norm(r[2] - r[3]))
    return float(np.linalg.norm(r - g, axis=1).mean() / eyes), int(np.argmax(got[1])) == best


def measure(work: Path, rounds: int) -> dict[str, Any]:
    import numpy as np

    report: dict[str, Any] = {}
    timers: dict[str, Any] = {}
    for kind, (model, _, _) in SOURCES.items():
        held = np.load(work / f"held_{kind}_uint8.npy")
        shipped = _interpreter(MODELS / f"{model}.tflite")
        reference = [_outputs(shipped, image, kind) for image in held]
        timers[f"{kind} shipped"] = shipped
        report[f"{kind} shipped"] = {"kb": (MODELS / f"{model}.tflite").stat().st_size // 1024}
        for variant in VARIANTS:
            path = work / f"out_{kind}" / f"{kind}_{variant}.tflite"
            interpreter = _interpreter(path)
            rows = [_error(kind, ref, _outputs(interpreter, image, kind))
                    for ref, image in zip(reference, held, strict=True)]  # fmt: skip
            errors = [e for e, _ in rows]
            report[f"{kind} {variant}"] = {
                "kb": path.stat().st_size // 1024, "frames": len(rows),
                "error_iod_mean": round(float(np.mean(errors)), 5),
                "error_iod_max": round(float(np.max(errors)), 5),
                "same_best_anchor": sum(same for _, same in rows),
            }  # fmt: skip
            timers[f"{kind} {variant}"] = interpreter
    minima: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, interpreter in timers.items():
            times = []
            for _ in range(15):
                started = time.perf_counter()
                interpreter.invoke()
                times.append((time.perf_counter() - started) * 1000.0)
            minima[name].append(min(times))
    for name, values in minima.items():
        report[name]["ms_min"] = round(min(values), 3)
        report[name]["ms_median_of_round_minima"] = round(float(np.median(values)), 3)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("calibrate", "convert", "measure"))
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "quant")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", type=Path, help="measure: also write the report here")
    args = parser.parse_args()
    if args.stage == "calibrate":
        sys.path.insert(0, str(ROOT))
        calibrate(args.work)
    elif args.stage == "convert":
        convert(args.work)
    else:
        report = measure(args.work, args.rounds)
        text = json.dumps(report, indent=1)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
