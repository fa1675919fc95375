"""`faceterm eval elderly`: simulated elderly people (SYNTHETIC behaviour on real footage), one
visit of up to 3 attempts each, through the production session (device/liveness/elderly_eval.py).

`faceterm eval` belongs to eval_cmd.py; device/cli.py hands this module its benchmarks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.commands import Subparsers
from device.errors import ConfigError

DEFAULT_FOOTAGE = ".cache/footage"
DEFAULT_LABELS = "tests/data/footage_labels.json"
SUMMARY = ("pass_within_visit", "time_to_pass_s", "attempts_used_when_passed", "spoof_records",
           "failed_attempts", "failed_attempt_reasons", "runtime_s")  # fmt: skip


def register(benchmarks: Subparsers[argparse.ArgumentParser]) -> None:
    parser = benchmarks.add_parser(
        "elderly", help="share of simulated elderly people passing within 3 attempts (SYNTHETIC)"
    )
    parser.add_argument("--people", type=int, default=60, help="simulated people (visits)")
    parser.add_argument("--pace", default=None,
                        help='[session] pace ("standard" | "slow"), when the session has it')
    parser.add_argument("--footage", default=DEFAULT_FOOTAGE, help="scripts/fetch_footage.py's")
    parser.add_argument("--labels", default=DEFAULT_LABELS, help="the footage label file")
    parser.add_argument("--models", default="models", help="models folder")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--out", default=None, help="write the JSON report here")
    parser.add_argument("--progress", default=None,
                        help="append every finished visit to this JSON-lines file")
    parser.add_argument("--report-from", default=None,
                        help="only build the report from a progress file (a stopped run)")
    parser.set_defaults(handler=_elderly)


def _elderly(args: argparse.Namespace) -> int:
    from device.liveness import elderly_eval

    session: dict[str, Any] = {} if args.pace is None else {"pace": args.pace}
    if args.report_from:
        report = elderly_eval.from_progress(Path(args.report_from), session)
    else:
        if args.people < 1 or args.workers < 1:
            raise ConfigError("--people and --workers must be at least 1")
        if not (Path(args.footage) / "WolfgangLanger_Pexels.mp4").is_file():
            raise ConfigError(f"{args.footage}: no footage (run scripts/fetch_footage.py)")
        report = elderly_eval.evaluate(
            args.people, session, args.models, args.footage, args.labels, args.workers,
            args.seed, args.progress,
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    print(json.dumps({k: report[k] for k in SUMMARY}, indent=2, ensure_ascii=False))
    print(json.dumps(report["behaviours"], ensure_ascii=False))
    return 0
