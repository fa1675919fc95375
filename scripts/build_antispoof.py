"""The passive anti-spoofing model of `make models` (called from scripts/build_models.sh).

Source: npm faceplugin-face-recognition-js 0.0.1, `model/fr_liveness.onnx` (MiniFASNet-style,
input 1x3x128x128 RGB 0-255, the face box scaled 2.7x, 3 logits; its own lib/fr_liveness.js
shows the crop and the input). The label order was checked on the real footage of
scripts/fetch_footage.py: class 1 wins on every real frame, so class 1 is bona fide.

Stages:
  fetch    `npm pack` the package (no install), check the tarball and the member by sha256.
  convert  (build venv) onnx2tf to TFLite float32 and float16; the float16 file is installed.
  entry    (run-time venv) the manifest entry, with the measured BPCER/APCER when the
           evaluation report (scripts/eval_antispoof.py) exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
PACKAGE, VERSION = "faceplugin-face-recognition-js", "0.0.1"
TARBALL = f"{PACKAGE}-{VERSION}.tgz"
TARBALL_SHA256 = "7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba"
MEMBER = "package/model/fr_liveness.onnx"
MEMBER_SHA256 = "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"
ONNX = "fr_liveness.onnx"
TARGET = "antispoof_minifasnet_fp16.tflite"
# package.json says "MIT"; the LICENSE file in the tarball is an MIT text naming another author
# (a template), recorded as written.
LICENCE = "MIT (package.json \"license\"; LICENSE file: MIT text, 'Copyright (c) 2021 gitguanqi')"
THRESHOLD = 0.5  # probability of class 1 (bona fide): the arg-max decision of 3 classes
EVAL_REPORT = "antispoof_eval.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(work: Path) -> None:
    npm_dir = work / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarball = npm_dir / TARBALL
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise SystemExit("build_antispoof: needs npm (apt-get install npm, or any Node.js "
                             "install) to `npm pack` the model's package")
        command = ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"]
        subprocess.run(command, cwd=npm_dir, check=True, timeout=300)
    if sha256(tarball.read_bytes()) != TARBALL_SHA256:
        raise SystemExit(f"{TARBALL}: sha256 differs from {TARBALL_SHA256}")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{TARBALL}: no {MEMBER}")
        blob = member.read()
    if sha256(blob) != MEMBER_SHA256:
        raise SystemExit(f"{MEMBER}: sha256 differs from {MEMBER_SHA256}")
    (work / ONNX).write_bytes(blob)
    print(f"antispoof: {MEMBER} from {TARBALL} (sha256 checked)")


def convert(work: Path) -> None:
    import numpy as np

    out = work / "antispoof_tf"
    # onnx2tf fetches a sample calibration file from the internet unless one lies here; no
    # quantisation is asked for, so its content is never used.
    sample = work / "calibration_image_sample_data_20x128x128x3_float32.npy"
    if not sample.exists():
        np.save(sample, np.zeros((20, 128, 128, 3), np.float32))
    # onnx2tf rewrites its input file in place (measured): give it a copy.
    shutil.copyfile(work / ONNX, work / "fr_liveness_onnx2tf.onnx")
    command = [sys.executable, "-m", "onnx2tf", "-i", "fr_liveness_onnx2tf.onnx", "-o", out.name,
               "-n"]
    with (work / "onnx2tf_antispoof.log").open("w") as log:
        subprocess.run(command, cwd=work, check=True, stdout=log, stderr=subprocess.STDOUT,
                       timeout=1200)
    check_conversion(work / ONNX, out / "fr_liveness_onnx2tf_float16.tflite")
    shutil.copyfile(out / "fr_liveness_onnx2tf_float16.tflite", MODELS / TARGET)
    print(f"antispoof: models/{TARGET}")


def check_conversion(onnx_path: Path, tflite_path: Path) -> None:
    """The float16 file agrees with onnxruntime on random 0-255 crops (max prob difference)."""
    import numpy as np
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    session = ort.InferenceSession(str(onnx_path))
    interpreter = Interpreter(str(tflite_path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    worst = 0.0
    for seed in range(8):
        crop = np.random.default_rng(seed).uniform(0, 255, (1, 128, 128, 3)).astype(np.float32)
        ref = session.run(None, {"input": crop.transpose(0, 3, 1, 2)})[0][0]
        interpreter.set_tensor(inp["index"], crop)
        interpreter.invoke()
        got = interpreter.get_tensor(out["index"])[0]
        worst = max(worst, float(np.abs(softmax(ref) - softmax(got)).max()))
    print(f"antispoof: float16 vs onnx max probability difference {worst:.4f}")
    if worst > 0.02:
        raise SystemExit("antispoof: the converted model disagrees with the source")


def softmax(values: Any) -> Any:
    import numpy as np

    exp = np.exp(values - np.max(values))
    return exp / exp.sum()


def entry(work: Path) -> dict[str, Any]:
    """The manifest entry for models/manifest.json."""
    path = MODELS / TARGET
    report = work / EVAL_REPORT
    accuracy = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return {
        "name": "antispoof_minifasnet",
        "file": TARGET,
        "sha256": sha256(path.read_bytes()),
        "task": "antispoof",
        "variant": "fp16",
        "source": {"package": f"npm:{PACKAGE}", "version": VERSION, "path": MEMBER[8:],
                   "sha256": MEMBER_SHA256},
        "licence": LICENCE,
        "input": {"shape": [1, 128, 128, 3], "dtype": "float32", "colour": "RGB",
                  "normalisation": "none (0-255)", "crop_scale": 2.7},
        "output": "softmax",
        "live_class": 1,
        "quantization": "float16 weights",
        "threshold": THRESHOLD,
        "accuracy": accuracy,
        "latency_ms": {},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stage", choices=("fetch", "convert", "entry"))
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.stage == "fetch":
        fetch(work)
    elif args.stage == "convert":
        convert(work)
    else:
        print(json.dumps(entry(work), indent=2))


if __name__ == "__main__":
    main()
