"""`faceterm ui demo` (the kiosk page with a scripted session) and `faceterm ui browser`."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from device.config import load
from device.ui.browser import kiosk_command, wait_for_page
from device.ui.demo import run_demo
from device.ui.server import ScreenServer
from device.ui.settings import UiSettings


def register(sub: Any) -> None:
    parser = sub.add_parser("ui", help="the kiosk screen: a demo session, the kiosk browser")
    actions = parser.add_subparsers(dest="action", required=True)
    demo = actions.add_parser("demo", help="serve the kiosk page playing a scripted session")
    demo.add_argument("--port", type=int, default=None, help="override [ui] port (0: any)")
    demo.add_argument("--seconds", type=float, default=None, help="stop after this long")
    demo.add_argument("--worker", action="store_true", help="show worker mode")
    demo.set_defaults(handler=_demo)
    browser = actions.add_parser("browser", help="wait for the page, then run chromium on it")
    browser.add_argument("--url", default=None, help="page address (default from [ui])")
    browser.add_argument("--wait-s", type=float, default=120.0, help="give up after this long")
    browser.set_defaults(handler=_browser)


def _settings(args: argparse.Namespace) -> UiSettings:
    path = Path(args.config)
    return load(path).ui if path.exists() else UiSettings()


def _demo(args: argparse.Namespace) -> int:
    update: dict[str, Any] = {"worker_mode": bool(args.worker)}
    if args.port is not None:
        update["port"] = args.port
    settings = _settings(args).model_copy(update=update)
    ui = ScreenServer(settings, on_worker_input=lambda event: print("worker input, consent:",
                                                                event.consent))
    stop = threading.Event()
    ui.start()
    print(f"kiosk demo at {ui.url} (synthetic views; Ctrl-C stops)", flush=True)
    player = threading.Thread(target=run_demo, args=(ui.publish, stop), daemon=True)
    player.start()
    try:
        stop.wait(args.seconds)
    finally:
        stop.set()
        player.join(timeout=5.0)
        ui.stop()
    return 0


def _browser(args: argparse.Namespace) -> int:
    settings = _settings(args)
    url = args.url or f"http://{settings.host}:{settings.port}/"
    if not wait_for_page(url, args.wait_s):
        print(f"faceterm: the kiosk page at {url} did not answer within {args.wait_s:.0f} s")
        return 1
    profile = Path(tempfile.mkdtemp(prefix="faceterm-kiosk-"))
    command = kiosk_command(url, profile)
    os.execv(command[0], command)
    return 0  # not reached
