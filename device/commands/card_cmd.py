"""`faceterm card read` (one read, ID number masked) and `faceterm card sim` (run the simulator)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any

from device.cardreader.backends import make_backend
from device.cardreader.card import validate_card
from device.cardreader.idnumber import CardRejected
from device.cardreader.reader import read_once
from device.cardreader.settings import CardReaderSettings
from device.cardreader.sim import SimulatedReader
from device.cardreader.sim_script import demo_script_path, load_script
from device.cardreader.wlt import WltDecoder
from device.config import DEFAULT_PATH, Config, load

log = logging.getLogger(__name__)

EXIT_REFUSED = 3


def register(sub: Any) -> None:
    parser = sub.add_parser("card", help="ID-card reader: read a card or run the simulator")
    actions = parser.add_subparsers(dest="action", required=True)
    read = actions.add_parser("read", help="read one card from the configured reader")
    read.add_argument("--port", help="serial port, overriding cardreader.port (type serial)")
    read.add_argument("--timeout", type=float, help="seconds to wait for a card")
    read.add_argument("--json", action="store_true", help="print the masked fields as JSON")
    read.set_defaults(handler=_read)
    sim = actions.add_parser("sim", help="run the simulated SAM on a pty until Ctrl-C")
    sim.add_argument("--script", type=Path, help="JSON/TOML script (default: demo cards)")
    sim.add_argument("--link", type=Path, help="stable symlink path for the pty")
    sim.add_argument("--duration", type=float, help="stop after this many seconds")
    sim.set_defaults(handler=_sim)


def _settings(args: argparse.Namespace) -> CardReaderSettings:
    path = Path(args.config)
    if path == DEFAULT_PATH and not path.exists():
        log.info("card: %s not found, using default settings", path)
        config = Config()
    else:
        config = load(path)
    settings = config.cardreader
    if args.port:
        settings = settings.model_copy(update={"port": args.port, "type": "serial"})
    return settings


def _read(args: argparse.Namespace) -> int:
    settings = _settings(args)
    card = read_once(settings, args.timeout or settings.read_wait_s, make_backend(settings))
    fields: dict[str, Any] = dict(card.summary())
    try:
        validate_card(card, dt.date.today())
        fields["verdict"] = "valid"
    except CardRejected as exc:
        fields["verdict"] = f"refused: {exc.reason.value} ({exc.detail})"
    photo = WltDecoder(settings.wlt_decoder_path).decode(card.photo_wlt)
    fields["photo"] = f"decoded {len(photo.bmp)} bytes BMP" if photo.ok else photo.reason
    if args.json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        for key, value in fields.items():
            print(f"{key:>12}: {value}")
    return 0 if fields["verdict"] == "valid" else EXIT_REFUSED


def _sim(args: argparse.Namespace) -> int:
    script = load_script(args.script or demo_script_path())
    simulator = SimulatedReader(script, args.link)
    port = simulator.start()
    print(port, flush=True)
    stopped = threading.Event()
    try:
        stopped.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0
