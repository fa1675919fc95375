"""device.logsetup: journal fields under systemd, stdout otherwise, ID numbers always masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from device import logsetup

ID = "110101199003074514"
MASKED = "1101**********4514"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def emit(handler: logging.Handler, name: str, *args: Any, exc: bool = False) -> None:
    logger = logging.getLogger(name)
    record = logger.makeRecord(name, logging.WARNING, __file__, 1, "card %s read", args,
                               None)
    if exc:
        try:
            raise ValueError(f"bad number {ID}")
        except ValueError as error:
            record.exc_info = (type(error), error, error.__traceback__)
    for check in handler.filters:
        assert isinstance(check, logging.Filter) and check.filter(record)
    handler.emit(record)


@pytest.mark.parametrize(
    ("logger", "component"),
    [("device.camera.pump", "camera"), ("device.sdnotify", "sdnotify"), ("device", "core"),
     ("paho.mqtt.client", "paho")],
)
def test_component_of(logger: str, component: str) -> None:
    assert logsetup.component_of(logger) == component


def test_stdout_handler_masks_messages_and_tracebacks() -> None:
    handler = logsetup.make_handler("stdout")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    emit(handler, "device.cardreader.link", ID, exc=True)
    text = stream.getvalue()
    assert ID not in text
    assert f"card {MASKED} read" in text and f"bad number {MASKED}" in text


def test_auto_outside_systemd_logs_to_stdout() -> None:
    handler = logsetup.make_handler("auto", environ={})
    assert type(handler) is logging.StreamHandler


def test_journal_records_carry_identifier_component_and_masked_text() -> None:
    pytest.importorskip("systemd.journal", reason="systemd-python is not installed")
    sent: list[tuple[str, dict[str, Any]]] = []
    handler = logsetup.make_handler(
        "journal", sender=lambda MESSAGE, **fields: sent.append((MESSAGE, fields)))
    emit(handler, "device.cardreader.link", ID, exc=True)
    (message, fields), = sent
    assert message.startswith(f"device.cardreader.link: card {MASKED} read")
    assert fields["SYSLOG_IDENTIFIER"] == "faceterm"
    assert fields["FACETERM_COMPONENT"] == "cardreader"
    assert fields["PRIORITY"] == "4"
    assert f"bad number {MASKED}" in fields["EXCEPTION_TEXT"]
    assert "EXCEPTION_INFO" not in fields and "exc_info" not in fields
    assert ID not in repr(fields) and ID not in message


def test_setup_logging_replaces_root_handlers(restore_root: None) -> None:
    handler = logsetup.setup_logging("DEBUG", mode="stdout")
    root = logging.getLogger()
    assert root.handlers == [handler] and root.level == logging.DEBUG
