"""`faceterm eval lfw`: verification accuracy of an embedding variant on LFW-style pairs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from device.commands import Subparsers
from device.errors import ConfigError


def register(sub: Subparsers[argparse.ArgumentParser]) -> Subparsers[argparse.ArgumentParser]:
    """`faceterm eval` and its lfw benchmark; returns the benchmarks for other modules."""
    parser = sub.add_parser("eval", help="evaluate the on-device models")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True)
    lfw = benchmarks.add_parser(
        "lfw", help="n-fold accuracy, TAR at FAR 1e-2/1e-3 and the operating threshold"
    )
    lfw.add_argument("--data", required=True, help="folder with pairs.txt and images/")
    lfw.add_argument("--variant", default=None, help="embed variant (default: [vision] setting)")
    lfw.add_argument("--out", default="reports/lfw", help="folder for report.json and roc.png")
    lfw.add_argument("--limit", type=int, default=None, help="about N pairs, spread over folds")
    lfw.add_argument("--models", default=None, help="models folder (default: [vision] setting)")
    lfw.add_argument("--threads", type=int, default=None, help="interpreter threads")
    lfw.add_argument("--no-progress", action="store_true", help="no progress bar")
    lfw.set_defaults(handler=_lfw)
    return benchmarks


def _lfw(args: argparse.Namespace) -> int:
    from device.config import load
    from device.eval.lfw import LfwRun, run

    vision = load(Path(args.config)).vision if Path(args.config).exists() else None
    variant = args.variant or (vision.embed_variant if vision else "sface_fp16")
    models = args.models or (vision.models_dir if vision else "models")
    threads = args.threads or (vision.num_threads if vision else 2)
    if args.limit is not None and args.limit < 2:
        raise ConfigError("--limit must be at least 2 pairs")
    data = Path(args.data)
    if not (data / "pairs.txt").is_file():
        raise ConfigError(f"{data}: no pairs.txt (an LFW-style folder is needed)")
    job = LfwRun(data, Path(models), variant, Path(args.out), args.limit, threads,
                 not args.no_progress)  # fmt: skip
    report = run(job)
    keys = ("variant", "accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3", "threshold",
            "far_at_threshold", "failures_to_enrol", "images", "pairs")  # fmt: skip
    print(json.dumps({k: report[k] for k in keys}, indent=2))
    print(f"report: {Path(args.out) / 'report.json'}, plot: {Path(args.out) / 'roc.png'}")
    return 0
