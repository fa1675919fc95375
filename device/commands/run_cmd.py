"""`faceterm run`: start the daemon with the configured hardware (or its simulators)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from device import daemon
from device.config import load


def register(sub: Any) -> None:
    parser = sub.add_parser("run", help="run the verification daemon")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    config = load(Path(args.config))
    return daemon.build(config).run(args.duration)
