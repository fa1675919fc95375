"""device/cli.py registers every command module explicitly, and `eval liveness` under `eval`."""

from __future__ import annotations

import pkgutil

import pytest

from device import commands
from device.cli import build_parser

COMMANDS = ("capture", "card", "config", "enroll", "eval", "provision", "run", "selftest", "ui",
            "verify")


def test_every_command_module_is_registered() -> None:
    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    assert len(modules) == 12, "a new module in device/commands must be listed in device/cli.py"
    usage = build_parser().format_help()
    assert all(name in usage for name in COMMANDS), usage


@pytest.mark.parametrize("argv", [["eval", "liveness", "--sessions", "3"],
                                  ["eval", "lfw", "--data", "somewhere"]])
def test_eval_has_both_benchmarks(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.benchmark == argv[1] and callable(args.handler)
