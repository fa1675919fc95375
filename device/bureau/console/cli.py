"""`faceterm-bureau console` (the web console) and `faceterm-bureau staff` (its accounts).

    faceterm-bureau staff add --db results.sqlite3 --user li --role operator   # password on stdin
    faceterm-bureau console --db results.sqlite3 --listen 127.0.0.1:8080 \\
        [--broker HOST:PORT --ca ca.crt --cert fleet.crt --key fleet.key --devices devices.json] \\
        [--operator-key alice.jwk --operator-entry alice.operator.json]
Without --broker the console only reads the store; with it, it records availability and
telemetry; with an operator key too, operators can send the commands that key's roles allow.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joserfc.jwk import OKPKey

from device.bureau.console.db import Database
from device.bureau.console.queries import Queries
from device.bureau.console.recorder import FleetRecorder
from device.bureau.console.roles import ROLES
from device.errors import PublishError
from device.fleet.keyring import ROLES as KEY_ROLES
from device.publish import identity
from device.publish.mqtt import LinkConfig

if TYPE_CHECKING:  # the web side needs the optional `bureau` extra; imported when serving
    from device.bureau.console.views import CommandSigner, Console


def add_commands(sub: Any) -> list[argparse.ArgumentParser]:
    console = sub.add_parser("console", help="the web console for bureau staff")
    console.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT")
    console.add_argument("--broker", help="HOST:PORT (TLS) to record status and send commands")
    for name in ("--ca", "--cert", "--key", "--devices", "--operator-key", "--operator-entry"):
        console.add_argument(name, type=Path)
    console.add_argument("--client-id", default="fleet")
    console.add_argument("--prefix", default="faceterm/v1")
    console.add_argument("--idle-minutes", type=float, default=30.0)
    console.add_argument("--session-hours", type=float, default=8.0)
    console.set_defaults(handler=run_console)
    staff = sub.add_parser("staff", help="console accounts")
    staff.add_argument("action", choices=["add"])
    staff.add_argument("--user", required=True)
    staff.add_argument("--role", required=True, choices=ROLES)
    staff.set_defaults(handler=run_staff)
    return [console, staff]


def database(args: argparse.Namespace) -> Database:
    db = Database(dsn=args.dsn) if args.dsn else Database(path=args.db)
    db.open()
    return db


def run_staff(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    from device.bureau.console.auth import Accounts

    Accounts(database(args)).add(args.user, password, args.role)
    print(f"{args.user}: {args.role}")
    return 0


def build_console(args: argparse.Namespace) -> tuple[Console, FleetRecorder | None]:
    from device.bureau.console.auth import Accounts, SessionPolicy
    from device.bureau.console.views import Console

    queries = Queries(database(args))
    policy = SessionPolicy(idle_s=args.idle_minutes * 60, absolute_s=args.session_hours * 3600)
    recorder = _recorder(args, queries) if args.broker else None
    return Console(queries, Accounts(queries.db, policy), _signer(args), recorder), recorder


def _recorder(args: argparse.Namespace, queries: Queries) -> FleetRecorder:
    host, _, port = str(args.broker).rpartition(":")
    if not host or not port.isdigit() or None in (args.ca, args.cert, args.key, args.devices):
        raise PublishError("--broker HOST:PORT needs --ca, --cert, --key and --devices")
    link = LinkConfig(host=host, port=int(port), ca_cert=str(args.ca),
                      client_cert=str(args.cert), client_key=str(args.key),
                      client_id=args.client_id)
    return FleetRecorder(link, identity.load_registry(args.devices), queries, args.prefix)


def _signer(args: argparse.Namespace) -> CommandSigner | None:
    from device.bureau.console.views import CommandSigner

    if args.operator_key is None:
        return None
    if args.operator_entry is None:
        raise PublishError("--operator-key needs --operator-entry (its kid and roles)")
    entry = json.loads(args.operator_entry.read_text())
    allowed = frozenset().union(*(KEY_ROLES.get(r, frozenset()) for r in entry["roles"]))
    key = OKPKey.import_key(json.loads(args.operator_key.read_text()))
    return CommandSigner(key, str(entry["kid"]), allowed)


def run_console(args: argparse.Namespace) -> int:
    import uvicorn  # the optional `bureau` extra; imported only to serve

    from device.bureau.console.app import build_app

    console, recorder = build_console(args)
    host, _, port = str(args.listen).rpartition(":")
    if recorder is not None:
        recorder.start()
    try:
        uvicorn.run(build_app(console), host=host, port=int(port), log_level="info",
                    access_log=False)
    finally:
        if recorder is not None:
            recorder.stop()
    return 0
