"""`faceterm enroll --id NUMBER --image PATH...`: service-window enrolment of a reference.

Detect, align and embed each photo, average the embeddings and store the result encrypted in the
templates database under the salted hash of the ID number. `--revoke` deletes the reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from device.cardreader.idnumber import validate_id_number
from device.commands.verify_cmd import load_config
from device.match.enrol import enrol_images, read_rgb
from device.redact import mask_id
from device.session.handler import open_templates
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser = sub.add_parser("enroll", help="store a person's reference face (service window)")
    parser.add_argument("--id", dest="id_number", required=True, help="GB 11643 ID number")
    parser.add_argument(
        "--image",
        dest="images",
        nargs="+",
        type=Path,
        default=[],
        help="one or more photos of the person",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="use photos with quality warnings too (one face is still required)",
    )
    parser.add_argument("--revoke", action="store_true", help="delete the person's reference")
    parser.set_defaults(handler=_enroll)


def _enroll(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config))
    number = validate_id_number(args.id_number, dt.date.today())
    store = open_templates(config)
    if args.revoke:
        found = store.revoke(number)
        print(f"{mask_id(number)}: {'reference deleted' if found else 'no reference stored'}")
        return 0 if found else 1
    if not args.images:
        print("faceterm enroll: --image is required unless --revoke is given")
        return 2
    analyzer = FaceAnalyzer.load(config.vision)
    embedder = Embedder.from_settings(config.vision)
    photos = [(str(path), read_rgb(path)) for path in args.images]
    result = enrol_images(photos, analyzer, embedder, config.session.quality, not args.lenient)
    for label, code in result.refused:
        print(f"{label}: not used ({code})")
    if result.embedding is None:
        print(f"{mask_id(number)}: no usable photo, nothing stored")
        return 1
    subject = store.put(number, result.embedding, embedder.model_id, "enrol", len(result.used))
    print(
        f"{mask_id(number)}: reference stored from {len(result.used)} photo(s), "
        f"subject {subject[:12]}..., model {embedder.model_id}"
    )
    return 0
