"""Sub-commands of `faceterm`; each module defines register(subparsers) and sets a handler.

device/cli.py lists them explicitly; `faceterm eval` benchmarks register on the subparsers that
eval_cmd.register returns."""

from __future__ import annotations

import argparse

Subparsers = argparse._SubParsersAction  # argparse's public add_subparsers() returns one
