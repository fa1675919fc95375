"""`faceterm config validate` and `faceterm config show`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.config import load, redacted


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="validate or show the configuration")
    actions = parser.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="exit non-zero naming key and line if invalid")
    validate.set_defaults(handler=_validate)
    show = actions.add_parser("show", help="print the effective configuration, secrets redacted")
    show.set_defaults(handler=_show)


def _validate(args: argparse.Namespace) -> int:
    load(Path(args.config))
    print(f"{args.config}: configuration is valid")
    return 0


def _show(args: argparse.Namespace) -> int:
    print(json.dumps(redacted(load(Path(args.config))), indent=2, ensure_ascii=False))
    return 0
