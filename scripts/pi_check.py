"""The aarch64 parity check's driver (`make pi-check`, see scripts/pi_check.sh).

One file, run twice: by the x86 venv (the reference) and by an aarch64 Python 3.11 under
`qemu-aarch64-static -L SYSROOT` with aarch64 wheels on PYTHONPATH. No binfmt is registered
here, so nothing in the emulated run may spawn a subprocess.

  pi_check.py run --out FILE [--pairs N]  verify and load every model, selftest, embed the golden
                                          image and the images of N lfw-dev pairs, one offline
                                          `faceterm verify` session; results as JSON
  pi_check.py compare REF RUN...          per-image cosine, decisions and accuracy against REF
  pi_check.py probe MODEL [--no-delegates] create one Interpreter (the litert crash reproduction)

Emulated times are not speeds: none are recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

LFW = REPO.parent.parent / "shared" / "data" / "lfw-dev"
ID = "11010519491231002X"
MIN_COSINE = 0.999


def probe(model: str, no_delegates: bool) -> int:
    """Create and allocate one Interpreter, printing each step before it is taken."""
    from device.vision.runtime import interpreter_factory

    backend, factory = interpreter_factory()
    print(f"probe: {backend} on {platform.machine()}", flush=True)
    kwargs: dict[str, Any] = {"model_path": model, "num_threads": 1}
    if no_delegates:
        from ai_edge_litert import interpreter as litert

        kwargs["experimental_op_resolver_type"] = (
            litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    interpreter = factory(**kwargs)
    print("probe: interpreter created", flush=True)
    interpreter.allocate_tensors()
    print("probe: tensors allocated", flush=True)
    return 0


def load_every_model() -> list[dict[str, Any]]:
    """Every manifest entry, its sha256 verified, loaded and invoked once on zeros."""
    from device.vision.models import Manifest

    manifest = Manifest.load(REPO / "models")
    loaded = []
    for entry in manifest.entries:
        model = manifest.open(entry, num_threads=1)
        inputs = [np.zeros(spec.shape, dtype=np.float32) for spec in model.inputs]
        outputs = model.invoke(*inputs)
        loaded.append({"name": entry.name, "sha256_ok": True, "backend": model.backend,
                       "finite": bool(all(np.isfinite(o).all() for o in outputs))})
    return loaded


def selftest() -> dict[str, Any]:
    from device.selftest import check_clock, check_models, report
    from device.vision.settings import VisionSettings

    return report([check_models(REPO / "models", VisionSettings()), check_clock()])


def lfw_pairs(count: int) -> list[Any]:
    """`count` pairs evenly over the five folds, half genuine and half impostor."""
    from device.eval.lfw import read_pairs

    return read_pairs(LFW, limit=count)


def embed_images(pairs: list[Any]) -> tuple[dict[str, list[float]], float | None, list[str]]:
    from device.eval.crops import CropMaker
    from device.eval.lfw import EmbeddingCache
    from device.vision.embed import Embedder
    from device.vision.settings import VisionSettings

    settings = VisionSettings(models_dir=str(REPO / "models"))
    embedder = Embedder.from_settings(settings)
    cache = EmbeddingCache(CropMaker.load(REPO / "models"), embedder.embed)
    paths = [REPO / "models" / "golden" / "astronaut.jpg"]
    for pair in pairs:
        paths += [pair.first, pair.second]
    vectors = {}
    for path in paths:
        key = str(path.relative_to(LFW)) if path.is_relative_to(LFW) else "golden"
        vectors[key] = [float(v) for v in cache(path)]
    return vectors, embedder.threshold, cache.not_found


def verify_session(work: Path) -> dict[str, Any]:
    """`faceterm enroll` then one offline `faceterm verify` (liveness off: still images), both
    in this process through the real CLI entry point."""
    import cv2

    from device.cli import main

    golden = cv2.imread(str(REPO / "models" / "golden" / "astronaut.jpg"))
    config = work / "faceterm.toml"
    config.write_text(
        f'[device]\nid = "pi-check"\nstate_dir = "{work / "state"}"\n'
        f'[vision]\nmodels_dir = "{REPO / "models"}"\n'
        "[session]\nidentify_timeout_s = 3.0\ncapture_timeout_s = 5.0\n"
        "[liveness]\nenabled = false\n",
        encoding="utf-8",
    )
    card = {"name": "测试", "birth_date": "19491231", "id_number": ID,
            "valid_from": "20200101", "valid_until": "长期"}
    script = work / "card.json"
    script.write_text(json.dumps({"repeat": True, "steps": [{"card": card, "present_s": 60}]}))
    cv2.imwrite(str(work / "enrol.png"), golden)
    camera = work / "camera"
    camera.mkdir()
    cv2.imwrite(str(camera / "frame.png"), cv2.convertScaleAbs(golden, alpha=0.9, beta=-5))
    base = ["--config", str(config)]
    if main([*base, "enroll", "--id", ID, "--image", str(work / "enrol.png")]) != 0:
        raise SystemExit("pi_check: enroll failed")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*base, "verify", "--card-sim", str(script), "--camera", str(camera),
                     "--loop", "--max-s", "30"])
    text = out.getvalue()
    record = json.loads(text[text.index("{"):])
    return {"exit": code, "decision": record.get("decision"),
            "scores": record.get("scores")}


def run(out: Path, count: int) -> int:
    from device.vision.runtime import interpreter_factory

    pairs = lfw_pairs(count)
    result: dict[str, Any] = {"machine": platform.machine(), "runtime": interpreter_factory()[0]}
    result["models"] = load_every_model()
    result["selftest"] = selftest()
    vectors, threshold, not_found = embed_images(pairs)
    result.update(embeddings=vectors, threshold=threshold, not_found=not_found)
    result["pairs"] = [{"a": str(p.first.relative_to(LFW)), "b": str(p.second.relative_to(LFW)),
                        "same": p.same} for p in pairs]
    with tempfile.TemporaryDirectory() as work:
        result["verify"] = verify_session(Path(work))
    out.write_text(json.dumps(result), encoding="utf-8")
    print(f"pi_check run: {result['machine']} {result['runtime']}, {len(vectors)} images, "
          f"selftest {'ok' if result['selftest']['ok'] else 'FAILED'}, "
          f"verify {result['verify']['decision']}")
    return 0


def decisions(result: dict[str, Any]) -> tuple[list[bool], float]:
    vectors = {k: np.asarray(v) for k, v in result["embeddings"].items()}
    scores = [float(vectors[p["a"]] @ vectors[p["b"]]) for p in result["pairs"]]
    accepted = [s >= result["threshold"] for s in scores]
    correct = [a == p["same"] for a, p in zip(accepted, result["pairs"], strict=True)]
    return accepted, float(np.mean(correct))


def _match(result: dict[str, Any]) -> float:
    scores = result["verify"]["scores"] or {}
    return float(scores.get("match") or 0.0)


def compare_one(ref: dict[str, Any], run_: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    keys = sorted(ref["embeddings"])
    cos = np.array([float(np.dot(ref["embeddings"][k], run_["embeddings"][k])) for k in keys])
    ref_dec, ref_acc = decisions(ref)
    run_dec, run_acc = decisions(run_)
    row = {
        "images": len(keys), "cos_min": float(cos.min()), "cos_median": float(np.median(cos)),
        "decisions_identical": ref_dec == run_dec, "accuracy_ref": ref_acc, "accuracy": run_acc,
        "models_ok": all(m["sha256_ok"] and m["finite"] for m in run_["models"]),
        "selftest_ok": bool(run_["selftest"]["ok"]),
        "verify_same": run_["verify"]["decision"] == ref["verify"]["decision"],
        "verify": run_["verify"]["decision"],
        "verify_score_diff": abs(_match(run_) - _match(ref)),
    }
    ok = (row["cos_min"] >= MIN_COSINE and row["decisions_identical"] and row["models_ok"]
          and row["selftest_ok"] and row["verify_same"] and run_acc == ref_acc)
    return row, ok


def compare(ref_path: Path, runs: list[Path]) -> int:
    ref = json.loads(ref_path.read_text(encoding="utf-8"))
    print(f"reference: {ref['machine']} {ref['runtime']}, {len(ref['pairs'])} lfw-dev pairs, "
          f"threshold {ref['threshold']:.4f}, verify {ref['verify']['decision']}")
    print("| run | runtime | images | cosine min | cosine median | pair decisions | accuracy "
          "(x86) | models | selftest | verify |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    all_ok = True
    for path in runs:
        run_ = json.loads(path.read_text(encoding="utf-8"))
        row, ok = compare_one(ref, run_)
        all_ok &= ok
        print(f"| {path.stem} | {run_['runtime']} | {row['images']} | {row['cos_min']:.6f} | "
              f"{row['cos_median']:.6f} | {'identical' if row['decisions_identical'] else 'DIFFER'}"
              f" | {row['accuracy']:.4f} ({row['accuracy_ref']:.4f}) | "
              f"{'ok' if row['models_ok'] else 'FAIL'} | {'ok' if row['selftest_ok'] else 'FAIL'}"
              f" | {row['verify']}{'' if row['verify_same'] else ' (x86 differs)'}, "
              f"score diff {row['verify_score_diff']:.1e} |")
    print("pi-check:", "PASS" if all_ok else "FAIL")
    return 0 if all_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--out", type=Path, required=True)
    p_run.add_argument("--pairs", type=int, default=50)
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("reference", type=Path)
    p_cmp.add_argument("runs", type=Path, nargs="+")
    p_probe = sub.add_parser("probe")
    p_probe.add_argument("model")
    p_probe.add_argument("--no-delegates", action="store_true")
    args = parser.parse_args()
    if args.command == "run":
        return run(args.out, args.pairs)
    if args.command == "compare":
        return compare(args.reference, args.runs)
    return probe(args.model, args.no_delegates)


if __name__ == "__main__":
    sys.exit(main())
