"""`faceterm run` with a garbage outbox and a garbage templates database: it starts (no crash
loop under systemd), says what it renamed aside, and holds the templates for an operator."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from device.match.keys import load_secrets
from tests.integration.test_daemon_bare import config_file, start  # noqa: F401


def test_a_garbage_outbox_and_templates_file_do_not_stop_the_daemon(
    config_file: Path,  # noqa: F811
) -> None:
    settings = tomllib.loads(config_file.read_text(encoding="utf-8"))
    state = Path(settings["device"]["state_dir"])
    load_secrets(state, environ={}, create=True)  # as after the first run: key, salt, database
    (state / "outbox.sqlite3").write_bytes(os.urandom(16384))
    (state / "templates.sqlite3").write_bytes(b"not a database\n" * 100)
    proc = start(config_file, "--duration", "6")
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out
    assert "outbox.sqlite3 is damaged" in out and "renamed aside to outbox.sqlite3.corrupt-" in out
    assert "templates: unavailable until an operator acts" in out
    assert "faceterm stopped" in out
    assert list(state.glob("outbox.sqlite3.corrupt-*"))
    assert (state / "templates.sqlite3.held").exists()
