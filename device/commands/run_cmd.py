"""`faceterm run`: start the daemon with the configured hardware (or its simulators)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
from pathlib import Path
from typing import Any

from device import daemon
from device.config import load


def register(sub: Any) -> None:
    parser = sub.add_parser("run", help="run the verification daemon")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--debug-hang-after", type=float, default=None, metavar="S",
                        help="testing the watchdog: block the core loop once, S s after start")
    parser.add_argument("--debug-hang-for", type=float, default=5.0, metavar="S",
                        help="how long --debug-hang-after blocks the core loop")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    faulthandler.enable()  # a watchdog SIGABRT leaves every thread's stack in the journal
    config = load(Path(args.config))
    logging.getLogger().setLevel(config.device.log_level if not args.verbose else logging.DEBUG)
    built = daemon.build(config)
    if args.debug_hang_after is not None:
        built.loop.hang_once(args.debug_hang_after, args.debug_hang_for)
    return built.run(args.duration)
