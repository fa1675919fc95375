"""Logging set-up: the journal with structured fields under systemd, stderr otherwise.

Every record passes device.redact.RedactingFilter, and the final text (message and any
traceback) is redacted once more by the formatter, so no handler sees a clear ID number.
Journal records carry SYSLOG_IDENTIFIER=faceterm and FACETERM_COMPONENT (the package part
of the logger name: device.camera.pump -> camera), so `journalctl -t faceterm
FACETERM_COMPONENT=camera` selects one component.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from device.redact import RedactingFilter, redact_text

Mode = Literal["auto", "journal", "stdout"]
IDENTIFIER = "faceterm"
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
STDOUT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Under systemd the journal stamps time and unit; a plain format keeps the line short.
JOURNAL_FORMAT = "%(name)s: %(message)s"
FIELD_RE = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,63}$")
DROPPED_FIELDS = frozenset({"EXCEPTION_INFO"})


def component_of(logger_name: str) -> str:
    """The component a logger belongs to: 'device.camera.pump' -> 'camera', 'device' -> 'core'."""
    parts = logger_name.split(".")
    if parts[0] == "device":
        parts = parts[1:]
    return parts[0] if parts and parts[0] else "core"


class ComponentFilter(logging.Filter):
    """Adds FACETERM_COMPONENT to each record (the journal handler sends it as a field)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "FACETERM_COMPONENT"):
            record.FACETERM_COMPONENT = component_of(record.name)
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the whole rendered text, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        text = redact_text(super().format(record))
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return text


def under_systemd(environ: Mapping[str, str]) -> bool:
    """Whether systemd started us with its journal reachable."""
    started = "INVOCATION_ID" in environ or "JOURNAL_STREAM" in environ
    return started and JOURNAL_SOCKET.exists()


def redacting_sender(send: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap journal.send: keep only valid journal field names, redact every value.

    JournalHandler also sends each record attribute and EXCEPTION_INFO, the repr of the
    exception object itself, which the formatter never sees; EXCEPTION_TEXT (the redacted
    traceback) carries the same information.
    """

    def sender(MESSAGE: str, **fields: Any) -> Any:  # MESSAGE: journal.send's own name
        clean = {key: redact_text(str(value)) for key, value in fields.items()
                 if FIELD_RE.match(key) and key not in DROPPED_FIELDS and value is not None}
        return send(redact_text(MESSAGE), **clean)

    return sender


def journal_handler(sender: Callable[..., Any] | None = None) -> logging.Handler | None:
    """systemd-python's JournalHandler with our identifier, or None if it is not installed."""
    try:
        journal: Any = importlib.import_module("systemd.journal")
    except ImportError:
        return None
    send = redacting_sender(sender if sender is not None else journal.send)
    handler: logging.Handler = journal.JournalHandler(
        sender_function=send, SYSLOG_IDENTIFIER=IDENTIFIER)
    return handler


def make_handler(mode: Mode = "auto", environ: Mapping[str, str] | None = None,
                 sender: Callable[..., Any] | None = None) -> logging.Handler:
    """The one handler for the root logger, with redaction and component filters attached."""
    env = os.environ if environ is None else environ
    handler: logging.Handler | None = None
    if mode == "journal" or (mode == "auto" and under_systemd(env)):
        handler = journal_handler(sender)
    if handler is not None:
        handler.setFormatter(RedactingFormatter(JOURNAL_FORMAT))
    else:
        handler = logging.StreamHandler(sys.stderr)  # stdout is for command output
        handler.setFormatter(RedactingFormatter(STDOUT_FORMAT))
    handler.addFilter(RedactingFilter())
    handler.addFilter(ComponentFilter())
    return handler


def setup_logging(level: str | int = "INFO", mode: Mode = "auto",
                  environ: Mapping[str, str] | None = None) -> logging.Handler:
    """Replace the root logger's handlers by one redacting handler; return it."""
    handler = make_handler(mode, environ)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
