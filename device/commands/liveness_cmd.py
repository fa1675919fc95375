"""`faceterm eval liveness`: APCER per attack type and BPCER on SYNTHETIC liveness sessions.

`faceterm eval` itself belongs to eval_cmd.py (models area); device/cli.py hands this module the
benchmarks subparsers that eval_cmd.register returns.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from device.commands import Subparsers
from device.errors import ConfigError
from device.liveness.settings import Action, LivenessSettings

EVAL_ACTIONS: list[Action] = ["turn_left", "turn_right", "nod", "open_mouth"]
DEFAULT_LFW = "../shared/data/lfw-dev/images"


def register(benchmarks: Subparsers[argparse.ArgumentParser]) -> None:
    parser = benchmarks.add_parser(
        "liveness", help="APCER per attack type and BPCER on synthetic sessions (not camera data)"
    )
    parser.add_argument("--sessions", type=int, default=100, help="sessions per type")
    parser.add_argument("--out", default=None, help="write the JSON report here")
    parser.add_argument("--models", default="models", help="models folder")
    parser.add_argument("--lfw", default=DEFAULT_LFW, help="LFW images folder (optional)")
    parser.add_argument("--max-sources", type=int, default=60, help="LFW faces to draw from")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--no-flash", action="store_true", help="evaluate without screen flash")
    parser.set_defaults(handler=_liveness)


def _liveness(args: argparse.Namespace) -> int:
    from device.liveness.evaluate import evaluate

    if args.sessions < 1 or args.workers < 1:
        raise ConfigError("--sessions and --workers must be at least 1")
    # Blink is left out: face_landmark does not register the simulator's painted eyelids.
    settings = LivenessSettings(actions=list(EVAL_ACTIONS), screen_flash=not args.no_flash)
    lfw = args.lfw if args.lfw and Path(args.lfw).is_dir() else None
    report = evaluate(args.sessions, args.models, lfw, settings, args.workers, args.seed,
                      args.max_sources)  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    summary = {k: report[k] for k in ("apcer", "bpcer", "counts", "runtime_s", "caveat")}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
