"""`faceterm selftest`: check models (golden outputs), camera, card reader, clock, disk and the
anti-spoofing slot without starting the daemon. Exit status 0 only when every check passes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.camera import camera_pin, open_camera
from device.camera.identity import check_camera
from device.cardreader.backends import make_backend
from device.cardreader.link import SamLink
from device.config import Config, load
from device.errors import CameraError
from device.fleet.modelslots import ModelSlots
from device.liveness.antispoof import selftest_report
from device.selftest import Check, check_clock, check_disk, check_models, guarded, report


def register(sub: Any) -> None:
    parser = sub.add_parser("selftest", help="check models, camera, reader, clock and disk")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--skip-hardware", action="store_true",
                        help="models, clock and disk only (no camera frame, no reader)")
    parser.set_defaults(handler=_selftest)


def _selftest(args: argparse.Namespace) -> int:
    config = load(Path(args.config))
    models_dir = ModelSlots(Path(config.device.state_dir), Path(config.vision.models_dir))
    active = models_dir.active_dir()
    checks = [check_models(active, config.vision), check_clock()]
    state = Path(config.device.state_dir)
    checks.append(check_disk(state if state.exists() else Path("/")))
    if not args.skip_hardware:
        checks += [guarded("camera", lambda: _camera(config)),
                   guarded("cardreader", lambda: _reader(config))]
    spoof = selftest_report(active, config.liveness.antispoof_model)
    checks.append(Check("antispoof", spoof.get("antispoof") != "error", str(spoof["detail"])))
    result = report(checks)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for check in result["checks"]:
            print(f"{'ok  ' if check['ok'] else 'FAIL'} {check['name']:<11} {check['detail']}")
    return 0 if result["ok"] else 1


def _camera(config: Config) -> str:
    camera = open_camera(config.camera)
    camera.start()
    try:
        check = check_camera(camera.identity(), camera_pin(config.camera), None)
        if check.refusal:
            raise CameraError(f"{check.refusal}: {check.identity}")
        with camera.capture(config.camera.capture_timeout_s) as frame:
            width, height = frame.size
            who = check.identity
            size = f"{width}x{height}"
            return f"{config.camera.type} {who.kind} {who.model} {who.usb_id}: one {size} frame"
    finally:
        camera.close()


def _reader(config: Config) -> str:
    """Open the link (the SAM must answer its status command); a card is not needed."""
    backend = make_backend(config.cardreader)
    link = SamLink(config.cardreader, backend.start())
    try:
        link.open()
        present = link.find_card()
    finally:
        link.close()
        backend.stop()
    return f"SAM answering ({'a card is' if present else 'no card'} on the reader)"
