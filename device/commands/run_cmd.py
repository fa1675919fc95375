"""`faceterm run`: start the verification daemon with the configured hardware (or simulators)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
from pathlib import Path
from typing import Any

from device.compose import Kiosk
from device.config import load
from device.errors import FacetermError
from device.fleet.configstore import ConfigStore, Probation

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser = sub.add_parser("run", help="run the verification daemon")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    faulthandler.enable()  # a watchdog SIGABRT leaves every thread's stack in the journal
    path = Path(args.config)
    try:
        code, restart = _run_once(args, path)
    except FacetermError as exc:
        probation = Probation(ConfigStore(path))
        if not probation.pending:
            raise
        log.error("start-up failed with the new configuration (%s): rolling back", exc)
        probation.failed()
        code, restart = 0, True
    if restart:
        log.info("restarting")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "device", *sys.argv[1:]])
    return code


def _run_once(args: argparse.Namespace, path: Path) -> tuple[int, bool]:
    config = load(path)
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else config.device.log_level)
    daemon = Kiosk(config, path).build()
    code = daemon.run(args.duration)
    return code, daemon.restart_requested
