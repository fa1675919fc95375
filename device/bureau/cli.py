"""`faceterm-bureau`: the reference bureau receiver and its result store.

    faceterm-bureau run --broker HOST:PORT --ca ca.crt --cert bureau.crt --key bureau.key
                        --devices devices.json --bureau-key bureau.x25519.pem --db results.sqlite3
    faceterm-bureau list --db results.sqlite3
    faceterm-bureau export --db results.sqlite3 [--personal] > results.jsonl
    faceterm-bureau dead-letters --db results.sqlite3   # messages refused or unstorable
    faceterm-bureau purge --db results.sqlite3 --older-than-days 400   # retention (privacy.md)
    faceterm-bureau keygen --dir DIR          # the X25519 key pair personal data is sealed to
    faceterm-bureau console --db results.sqlite3 --listen 127.0.0.1:8080   # the web console
    faceterm-bureau staff add --db results.sqlite3 --user li --role viewer  # a console account
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from device.bureau.checks import Freshness
from device.bureau.console.cli import add_commands as add_console_commands
from device.bureau.receiver import Receiver
from device.bureau.registry import DeviceRegistry
from device.bureau.store import ResultStore, StoredResult
from device.errors import FacetermError, PublishError
from device.publish import identity
from device.publish.mqtt import LinkConfig
from device.redact import RedactingFilter, mask_id

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceterm-bureau", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="receive, verify and store results")
    run.add_argument("--broker", required=True, help="HOST:PORT of the MQTT broker (TLS)")
    for name in ("--ca", "--cert", "--key", "--devices", "--bureau-key"):
        run.add_argument(name, required=True, type=Path)
    run.add_argument("--revoked", type=Path,
                     help='JSON {"revoked": [device ids]}, re-read on change')
    run.add_argument("--max-age-days", type=float, default=30.0,
                     help="refuse results issued longer ago (unless the device clock was unsynced)")
    run.add_argument("--max-ahead-s", type=float, default=300.0,
                     help="refuse results issued further in the future")
    run.add_argument("--client-id", default="bureau-1")
    run.add_argument("--prefix", default="faceterm/v1")
    run.add_argument("--group", default="bureau", help="shared subscription group")
    run.set_defaults(handler=_run)
    for name, handler in (("list", _list), ("export", _export)):
        cmd = sub.add_parser(name, help=f"{name} stored results")
        cmd.set_defaults(handler=handler)
        cmd.add_argument("--limit", type=int, default=1_000_000)
    sub.choices["export"].add_argument("--personal", action="store_true",
                                       help="include unsealed ID number and name")
    dead = sub.add_parser("dead-letters", help="list messages that were refused or unstorable")
    dead.add_argument("--limit", type=int, default=1000)
    dead.set_defaults(handler=_dead_letters)
    purge = sub.add_parser("purge", help="delete results and dead letters past retention")
    purge.add_argument("--older-than-days", type=float, required=True)
    purge.set_defaults(handler=_purge)
    keygen = sub.add_parser("keygen", help="create the bureau's X25519 key pair")
    keygen.add_argument("--dir", required=True, type=Path)
    keygen.set_defaults(handler=_keygen)
    console_cmds = add_console_commands(sub)
    for cmd in (run, sub.choices["list"], sub.choices["export"], dead, purge, *console_cmds):
        store = cmd.add_mutually_exclusive_group()
        store.add_argument("--db", type=Path, default=Path("results.sqlite3"), help="SQLite file")
        store.add_argument("--dsn", help="PostgreSQL DSN (needs psycopg) instead of --db")
    return parser


def _store(args: argparse.Namespace) -> ResultStore:
    return ResultStore(dsn=args.dsn) if args.dsn else ResultStore(path=args.db)


def _run(args: argparse.Namespace) -> int:
    host, _, port = args.broker.rpartition(":")
    if not host or not port.isdigit():
        raise PublishError(f"--broker {args.broker!r}: expected HOST:PORT")
    link = LinkConfig(host=host, port=int(port), ca_cert=str(args.ca),
                      client_cert=str(args.cert), client_key=str(args.key),
                      client_id=args.client_id)
    freshness = Freshness(args.max_age_days * 86400.0, args.max_ahead_s)
    receiver = Receiver(link, DeviceRegistry(args.devices, args.revoked),
                        identity.load_okp(args.bureau_key, "bureau key"), _store(args),
                        prefix=args.prefix, group=args.group, freshness=freshness)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    receiver.start()
    while not done.wait(60):
        log.info("bureau: %s", json.dumps(receiver.status()["counters"]))
    receiver.stop()
    print(json.dumps(receiver.status(), indent=2))
    return 0


def _as_json(row: StoredResult, personal: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jti": row.jti, "device_id": row.device_id, "tenant": row.tenant, "seq": row.seq,
        "iat": row.iat, "received_ns": row.received_ns, "receiver": row.receiver,
        "record": row.record,
    }
    if personal and row.personal:
        data["personal"] = row.personal
    elif row.personal:
        data["personal"] = {"id_number": mask_id(row.personal.get("id_number", "")),
                            "name": "*" * len(row.personal.get("name", ""))}
    return data


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    store.open()
    try:
        for row in store.rows(args.limit):
            decision = row.record.get("decision", "?")
            print(f"{row.jti}  {row.tenant}/{row.device_id}  seq={row.seq}  {decision}")
    finally:
        store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    store = _store(args)
    store.open()
    try:
        for row in store.rows(args.limit):
            sys.stdout.write(json.dumps(_as_json(row, args.personal), ensure_ascii=False) + "\n")
    finally:
        store.close()
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    store = _store(args)
    store.open()
    try:
        for letter in store.dead_letters(args.limit):
            print(json.dumps({"id": letter.id, "received_ns": letter.received_ns,
                              "receiver": letter.receiver, "topic": letter.topic,
                              "reason": letter.reason, "device_id": letter.device_id,
                              "bytes": len(letter.payload)}))
    finally:
        store.close()
    return 0


def _purge(args: argparse.Namespace) -> int:
    if not 1.0 <= args.older_than_days <= 36500.0:
        raise PublishError("--older-than-days must lie between 1 and 36500")
    cutoff_ns = time.time_ns() - int(args.older_than_days * 86400 * 1e9)
    store = _store(args)
    store.open()
    try:
        print(json.dumps(store.purge(cutoff_ns)))
    finally:
        store.close()
    return 0


def _keygen(args: argparse.Namespace) -> int:
    private, public = identity.make_bureau_keys(args.dir)
    print(f"private key: {private} (keep secret)\npublic key:  {public} (give to devices)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.handler(args)
    except FacetermError as exc:
        print(f"faceterm-bureau: {exc}", file=sys.stderr)
        return 2
    return result
