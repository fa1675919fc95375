"""`faceterm verify --card-sim SCRIPT --camera PATH`: one verification, offline.

The card comes from the card-reader simulator (the real protocol over a pseudo-terminal, running
SCRIPT), the frames from PATH (an image folder or a video, decoded like the replay camera) on
virtual time, and the decision record is printed as JSON. Nothing is published.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from device.cardreader.card import validate_card
from device.cardreader.reader import read_once
from device.cardreader.settings import CardReaderSettings
from device.config import DEFAULT_PATH, Config, load
from device.session.handler import build_runner
from device.session.offline import Collector, drive, replay_images

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser = sub.add_parser("verify", help="run one verification offline through the simulators")
    parser.add_argument("--card-sim", required=True, type=Path, help="card simulator script")
    parser.add_argument("--camera", required=True, type=Path, help="image folder or video")
    parser.add_argument("--fps", type=float, default=15.0, help="frame rate of the replay")
    parser.add_argument("--loop", action="store_true", help="repeat the images until decided")
    parser.add_argument("--no-liveness", action="store_true", help="skip the liveness check")
    parser.add_argument("--max-s", type=float, default=300.0, help="virtual-time limit")
    parser.set_defaults(handler=_verify)


def load_config(path: Path) -> Config:
    """The configuration file; the built-in defaults when the default file does not exist."""
    if path == DEFAULT_PATH and not path.exists():
        log.info("%s not found: using the built-in defaults", path)
        return Config()
    return load(path)


def without_liveness(config: Config) -> Config:
    liveness = config.liveness.model_copy(update={"enabled": False})
    return config.model_copy(update={"liveness": liveness})


def without_consent_screen(config: Config) -> Config:
    """Offline there is nobody at a screen: the footage's consent was taken when it was made."""
    ui = config.ui.model_copy(update={"consent_screen": False})
    return config.model_copy(update={"ui": ui})


def _verify(args: argparse.Namespace) -> int:
    config = without_consent_screen(load_config(Path(args.config)))
    if args.no_liveness:
        config = without_liveness(config)
    settings = CardReaderSettings(type="sim", sim_script=str(args.card_sim))
    card = validate_card(read_once(settings, timeout_s=10.0), dt.date.today())
    sink = Collector()
    runner = build_runner(config, sink.on_view, sink.on_record)
    size = (config.camera.width, config.camera.height)
    frames = replay_images(args.camera, size, args.loop, int(args.max_s * args.fps))
    runner.on_card(card, 0.0)
    drive(runner, frames, args.fps, lambda: bool(sink.records), args.max_s)
    if not sink.records:
        print(json.dumps({"error": "no decision within the time limit"}))
        return 1
    print(json.dumps(sink.records[0], ensure_ascii=False, indent=2))
    return 0
