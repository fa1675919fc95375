"""The demo script and the kiosk browser launcher helpers."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from device.ui.browser import kiosk_command, wait_for_page
from device.ui.demo import demo_script, run_demo
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings
from device.ui.texts import load_catalogue
from device.ui.views import prepare


def test_every_demo_view_meets_the_contract_and_has_words() -> None:
    catalogue = load_catalogue()
    states = set()
    for _seconds, view in demo_script():
        out = prepare(view, catalogue)
        states.add(out["state"])
        assert out["zh"] or out["state"] == "decided"
    assert states == {"idle", "identified", "guiding", "challenge", "flash", "matching",
                      "decided"}


def test_run_demo_stops_when_asked() -> None:
    published: list[Any] = []
    stop = threading.Event()
    worker = threading.Thread(target=run_demo, args=(published.append, stop))
    worker.start()
    time.sleep(0.1)
    stop.set()
    started = time.monotonic()
    worker.join(timeout=2)
    assert not worker.is_alive() and time.monotonic() - started < 1.0
    assert published and published[0]["state"] == "idle"


def test_wait_for_page_and_kiosk_command(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    assert wait_for_page(f"http://127.0.0.1:{free_port}/", timeout_s=0.3, interval_s=0.1) is False
    ui = ScreenServer(UiSettings(port=0, voice=False), catalogue={})
    ui.start()
    try:
        assert wait_for_page(ui.url, timeout_s=3) is True
    finally:
        ui.stop()
    command = kiosk_command("http://127.0.0.1:8765/", tmp_path)
    assert command[0] == "/usr/bin/chromium" and "--kiosk" in command
    assert command[-1] == "--app=http://127.0.0.1:8765/"
    assert f"--user-data-dir={tmp_path}" in command
