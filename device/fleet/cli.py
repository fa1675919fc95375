"""`faceterm-fleet`: the bureau's fleet tool.

    faceterm-fleet keygen --kid alice-2026 --roles admin --dir keys/
    faceterm-fleet send --key keys/alice-2026.jwk --kid alice-2026 --device kiosk-1 status.get
    faceterm-fleet send ... --group district-7 --devices kiosk-1,kiosk-2 thresholds.set \\
        --params '{"match_threshold": 0.36}'
    faceterm-fleet status ...            # a table from retained status and telemetry
    faceterm-fleet sign-model --key ... --kid ... --name sface_fp16 --file new.tflite
Connection options (all sub-commands that talk to the broker): --broker HOST:PORT --ca --cert
--key-file --devices-registry (device id -> public JWK, to verify the devices' signed replies).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey
from tqdm import tqdm

from device.errors import FacetermError
from device.fleet.client import Endpoint, FleetClient
from device.fleet.keyring import operator_entry
from device.fleet.sign import sign_artifact, sign_command
from device.publish.identity import load_registry
from device.publish.mqtt import LinkConfig
from device.secretfile import write_secret
from device.vision.models import file_sha256


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceterm-fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="make an operator key and its operators.json entry")
    keygen.add_argument("--kid", required=True)
    keygen.add_argument("--roles", default="operator", help="comma-separated roles")
    keygen.add_argument("--dir", type=Path, required=True)
    keygen.set_defaults(handler=_keygen)
    send = sub.add_parser("send", help="sign and send a command, wait for the replies")
    _connection(send)
    _signer(send)
    target = send.add_mutually_exclusive_group(required=True)
    target.add_argument("--device")
    target.add_argument("--group")
    send.add_argument("--devices", help="with --group: members (default: all with a status)")
    send.add_argument("name", help="the command, e.g. status.get")
    send.add_argument("--params", default="{}", help="JSON object")
    send.add_argument("--ttl", type=float, default=300.0)
    send.add_argument("--timeout", type=float, default=60.0)
    send.set_defaults(handler=_send)
    status = sub.add_parser("status", help="fleet table from retained status and telemetry")
    _connection(status)
    status.add_argument("--wait", type=float, default=2.0)
    status.set_defaults(handler=_status)
    model = sub.add_parser("sign-model", help="the bureau signature for a model artifact")
    _signer(model)
    model.add_argument("--name", required=True)
    model.add_argument("--file", type=Path, required=True)
    model.set_defaults(handler=_sign_model)
    return parser


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", required=True, help="HOST:PORT")
    for name in ("--ca", "--cert", "--key-file", "--devices-registry"):
        parser.add_argument(name, required=True, type=Path)
    parser.add_argument("--client-id", default="fleet")
    parser.add_argument("--prefix", default="faceterm/v1")
    parser.add_argument("--tenant", default="default")


def _signer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, type=Path, help="operator private JWK")
    parser.add_argument("--kid", required=True)


def _client(args: argparse.Namespace) -> FleetClient:
    host, _, port = args.broker.rpartition(":")
    link = LinkConfig(host, int(port), str(args.ca), str(args.cert), str(args.key_file),
                      args.client_id)
    endpoint = Endpoint(link, args.prefix, args.tenant)
    client = FleetClient(endpoint, load_registry(args.devices_registry))
    client.connect()
    return client


def _keygen(args: argparse.Namespace) -> int:
    args.dir.mkdir(parents=True, exist_ok=True)
    key = OKPKey.generate_key("Ed25519")
    private = args.dir / f"{args.kid}.jwk"
    write_secret(private, json.dumps(key.as_dict(private=True)).encode())
    entry = operator_entry(args.kid, key.as_dict(private=False), args.roles.split(","))
    (args.dir / f"{args.kid}.operator.json").write_text(json.dumps(entry, indent=2))
    print(f"wrote {private} (keep it secret) and {args.kid}.operator.json (for operators.json)")
    return 0


def _load_key(path: Path) -> OKPKey:
    return OKPKey.import_key(json.loads(path.read_text()))


def _send(args: argparse.Namespace) -> int:
    params = json.loads(args.params)
    client = _client(args)
    try:
        devices = _targets(args, client)
        audience = args.device if args.device else f"group:{args.group}"
        token = sign_command(_load_key(args.key), args.kid, audience, args.name, params,
                             ttl_s=args.ttl)
        client.send(devices, token, args.name)
        with tqdm(total=len(devices), desc=args.name, unit="device") as bar:
            replies = client.wait(set(devices), args.timeout, bar.update)
    finally:
        client.close()
    _print_replies(devices, replies)
    return 0 if all(r.get("status") == "SUCCEEDED" for r in replies.values()) \
        and len(replies) == len(devices) else 1


def _targets(args: argparse.Namespace, client: FleetClient) -> list[str]:
    if args.device:
        return [args.device]
    if args.devices:
        return [d for d in args.devices.split(",") if d]
    return sorted(client.discover())


def _print_replies(devices: Sequence[str], replies: dict[str, dict[str, Any]]) -> None:
    print(f"{'device':<24} {'status':<10} reason")
    for device in devices:
        reply = replies.get(device, {"status": "NO REPLY"})
        print(f"{device:<24} {reply.get('status', ''):<10} {reply.get('reason') or ''}")


def _status(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        known = client.discover(args.wait)
    finally:
        client.close()
    print(f"{'device':<24} {'status':<8} {'outbox':>6} {'uptime_s':>9} last_error")
    for device, info in sorted(known.items()):
        tele = info.get("telemetry", {})
        print(f"{device:<24} {info.get('status', '?'):<8} {tele.get('outbox_depth', ''):>6} "
              f"{tele.get('uptime_s', ''):>9} {tele.get('last_error') or ''}")
    return 0


def _sign_model(args: argparse.Namespace) -> int:
    sha = file_sha256(args.file)
    size = args.file.stat().st_size
    signature = sign_artifact(_load_key(args.key), args.kid, args.name, sha, size)
    print(json.dumps({"name": args.name, "sha256": sha, "size": size, "signature": signature}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except (FacetermError, OSError, ValueError) as exc:
        print(f"faceterm-fleet: {exc}", file=sys.stderr)
        return 2
    return result
