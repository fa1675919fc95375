"""`faceterm eval liveness` (APCER/BPCER of closed-loop sessions: SYNTHETIC scenes, or real
footage segments with --footage) and `faceterm eval footage` (the action detectors on labelled
real footage).

`faceterm eval` itself belongs to eval_cmd.py (models area); device/cli.py hands this module the
benchmarks subparsers that eval_cmd.register returns.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.commands import Subparsers
from device.errors import ConfigError
from device.liveness.settings import Action, LivenessSettings

EVAL_ACTIONS: list[Action] = ["turn_left", "turn_right", "nod", "open_mouth"]
DEFAULT_LFW = "../shared/data/lfw-dev/images"
DEFAULT_FOOTAGE = ".cache/footage"
DEFAULT_LABELS = "tests/data/footage_labels.json"
DEFAULT_SEED = 20261125


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
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-flash", action="store_true", help="evaluate without screen flash")
    parser.add_argument(
        "--footage",
        default=None,
        help="bona fide sessions of real footage puppets from this folder",
    )
    parser.add_argument("--labels", default=DEFAULT_LABELS, help="the footage label file")
    parser.add_argument(
        "--flash-only", action="store_true", help="with --footage: only sessions with the flash"
    )
    parser.add_argument(
        "--attacks", action="store_true",
        help="with --footage: APCER of SYNTHETIC attack families rendered over the footage",
    )
    parser.add_argument("--families", default=None,
                        help="with --attacks: comma-separated families (default: all)")
    parser.add_argument("--captures", default=None,
                        help="score pilot captures (faceterm capture) instead of synthetic ones")
    parser.add_argument("--key", default=None, help="the captures' AES key file")
    parser.add_argument("--bpcer-target", type=float, default=5.0, help="percent, for the "
                        "recommended threshold")
    parser.set_defaults(handler=_liveness)
    footage = benchmarks.add_parser(
        "footage", help="recall and false fires of each action detector on labelled real footage"
    )
    footage.add_argument(
        "--footage", default=DEFAULT_FOOTAGE, help="scripts/fetch_footage.py's folder"
    )
    footage.add_argument("--labels", default=DEFAULT_LABELS, help="the label file")
    footage.add_argument("--models", default="models", help="models folder")
    footage.add_argument("--out", default=None, help="write the JSON report here")
    footage.set_defaults(handler=_footage)


def _liveness(args: argparse.Namespace) -> int:
    if args.captures:
        from device.capture.run_eval import evaluate_captures

        return evaluate_captures(args)
    from device.liveness.evaluate import evaluate

    if args.sessions < 1 or args.workers < 1:
        raise ConfigError("--sessions and --workers must be at least 1")
    if args.footage:
        return _puppets(args)
    # Blink is left out of these SYNTHETIC sessions only: the simulator's painted lids lower the
    # mesh's eye opening by 0-5 % (blink needs 20 %). Real eyes blink in the --footage runs.
    settings = LivenessSettings(actions=list(EVAL_ACTIONS), screen_flash=not args.no_flash)
    lfw = args.lfw if args.lfw and Path(args.lfw).is_dir() else None
    report = evaluate(args.sessions, args.models, lfw, settings, args.workers, args.seed,
                      args.max_sources)  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    summary = {k: report[k] for k in ("bpcer", "counts", "runtime_s", "caveat", "attacks")}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def _modes(args: argparse.Namespace) -> tuple[bool, ...]:
    return (False,) if args.no_flash else (True,) if args.flash_only else (False, True)


def _attacks(args: argparse.Namespace) -> int:
    from device.liveness.attack_eval import FAMILIES, evaluate

    names = tuple(args.families.split(",")) if args.families else tuple(f.name for f in FAMILIES)
    seed = args.seed if args.seed != DEFAULT_SEED else 20261203
    report = evaluate(args.sessions, names, _modes(args), args.models, args.footage, args.labels,
                      args.workers, seed)  # fmt: skip
    _write(args.out, report)
    print(json.dumps({k: report[k] for k in ("apcer", "runtime_s", "caveat")}, indent=2))
    return 0


def _puppets(args: argparse.Namespace) -> int:
    from device.liveness.puppet_eval import evaluate

    if args.attacks:
        return _attacks(args)
    modes = _modes(args)
    report = evaluate(args.sessions, modes, args.models, args.footage, args.labels, args.workers,
                      args.seed)  # fmt: skip
    _write(args.out, report)
    print(json.dumps({k: report[k] for k in ("modes", "flash_model", "runtime_s")}, indent=2))
    return 0


def _write(out: str | None, report: dict[str, Any]) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


def _footage(args: argparse.Namespace) -> int:
    from device.liveness.footage import load_labels
    from device.liveness.footage_eval import evaluate, markdown
    from device.vision.analyzer import FaceAnalyzer
    from device.vision.settings import VisionSettings

    folder = Path(args.footage)
    clips = load_labels(Path(args.labels))
    missing = [name for name in clips if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{folder}: missing {missing} (run scripts/fetch_footage.py)")
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=args.models, num_threads=1))
    report = evaluate(analyzer, folder, clips, LivenessSettings())
    _write(args.out, report)
    print(markdown(report))
    print(json.dumps(report["faces"], indent=2))
    return 0
