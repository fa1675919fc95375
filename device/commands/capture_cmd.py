"""`faceterm capture`: record consented pilot sessions, encrypted at rest (docs/pilot.md).

    faceterm capture record --out DIR --key FILE --label print --subject S07 --consent
                            [--frames 150] [--source VIDEO]   (default: the configured camera)
    faceterm capture list --out DIR
    faceterm capture purge --out DIR

`faceterm eval liveness --captures DIR --key FILE` scores them (device/capture/evaluate.py).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from device.camera.base import Camera, CameraConfig
from device.capture.store import (
    LABELS,
    SessionMeta,
    SessionWriter,
    load_key,
    new_session_id,
    purge,
    sessions,
)
from device.errors import ConfigError


def register(sub: Any) -> None:
    parser = sub.add_parser("capture", help="pilot sessions, encrypted at rest (docs/pilot.md)")
    actions = parser.add_subparsers(dest="action", required=True)
    record = actions.add_parser("record", help="record one labelled, consented session")
    record.add_argument("--out", required=True, help="capture folder (never published)")
    record.add_argument("--key", required=True, help="AES key file (created 0600 if absent)")
    record.add_argument("--label", required=True, choices=LABELS)
    record.add_argument("--subject", required=True, help="pilot subject code (not a name or ID)")
    record.add_argument("--consent", action="store_true", help="the person consented")
    record.add_argument("--frames", type=int, default=150, help="frames to record")
    record.add_argument("--source", default=None, help="a video file instead of the camera")
    record.set_defaults(handler=_record)
    for name, handler, text in (("list", _list, "the recorded sessions (labels only)"),
                                ("purge", _purge, "delete every session under --out")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--out", required=True)
        action.set_defaults(handler=handler)


def _camera(args: argparse.Namespace) -> tuple[Camera, float]:
    if args.source:
        from device.camera.replay import ReplayCamera

        camera: Camera = ReplayCamera(Path(args.source), loop=False)
        camera.configure(CameraConfig())
        return camera, CameraConfig().fps
    from device.camera import open_camera
    from device.config import load

    config = load(Path(args.config))
    return open_camera(config.camera), config.camera.fps


def _record(args: argparse.Namespace) -> int:
    from device.errors import CameraError

    if args.frames < 1 or args.frames > 10_000:
        raise ConfigError("--frames must be 1..10000")
    if not args.consent:
        raise ConfigError("--consent is required: record only people who agreed (docs/pilot.md)")
    key = load_key(Path(args.key), create=True)
    camera, fps = _camera(args)
    meta = SessionMeta(new_session_id(), args.label, args.subject, True, fps)
    writer = SessionWriter(Path(args.out), key, meta)
    camera.start()
    try:
        for _ in range(args.frames):
            try:
                with camera.capture(5.0) as frame:
                    writer.add(frame.rgb)
            except CameraError:
                break  # the end of a --source video, or a lost camera: keep what was captured
    finally:
        camera.close()
        done = writer.close()
    print(json.dumps(asdict(done)))
    return 0


def _list(args: argparse.Namespace) -> int:
    for meta in sessions(Path(args.out)):
        print(json.dumps(asdict(meta)))
    return 0


def _purge(args: argparse.Namespace) -> int:
    folder = Path(args.out)
    count = purge(folder) if folder.is_dir() else 0
    print(f"purged {count} sessions from {folder}")
    return 0
