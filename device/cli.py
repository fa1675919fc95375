"""The `faceterm` command line: each module in device/commands/ adds its own sub-commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from device.commands import (
    capture_cmd,
    card_cmd,
    config_cmd,
    elderly_cmd,
    enroll_cmd,
    eval_cmd,
    liveness_cmd,
    provision_cmd,
    run_cmd,
    selftest_cmd,
    ui_cmd,
    verify_cmd,
)
from device.config import DEFAULT_PATH
from device.errors import FacetermError
from device.logsetup import setup_logging


def build_parser() -> argparse.ArgumentParser:
    """The full parser: every device.commands module, registered explicitly."""
    parser = argparse.ArgumentParser(prog="faceterm", description=__doc__)
    parser.add_argument("--config", default=str(DEFAULT_PATH), help="TOML configuration file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (capture_cmd, card_cmd, config_cmd, enroll_cmd):
        module.register(sub)
    benchmarks = eval_cmd.register(sub)
    liveness_cmd.register(benchmarks)  # `faceterm eval liveness`
    elderly_cmd.register(benchmarks)  # `faceterm eval elderly`
    for module in (provision_cmd, run_cmd, selftest_cmd, ui_cmd, verify_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    try:
        result: int = args.handler(args)
    except FacetermError as exc:
        print(f"faceterm: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
