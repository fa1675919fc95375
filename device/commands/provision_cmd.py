"""`faceterm provision`: create the device's signing key, TLS key, CSR and (given a CA) its cert."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.errors import PublishError
from device.fleet.sealed import ensure_enc_key
from device.publish import identity, pki


def register(sub: Any) -> None:
    parser = sub.add_parser("provision", help="create device keys, CSR and certificate")
    parser.add_argument("--state-dir", required=True, type=Path, help="where the keys go")
    parser.add_argument("--device-id", required=True, help="device id (certificate CN)")
    parser.add_argument("--ca-cert", type=Path, help="CA certificate to sign the device cert")
    parser.add_argument("--ca-key", type=Path, help="CA private key (with --ca-cert)")
    parser.add_argument("--registry", type=Path,
                        help="bureau device registry JSON to add this device's public key to")
    parser.add_argument("--tenant", default="default",
                        help="the device's tenant, recorded in the registry (the bureau takes "
                             "the tenant from there, not from the topic)")
    parser.set_defaults(handler=_provision)


def _provision(args: argparse.Namespace) -> int:
    if (args.ca_cert is None) != (args.ca_key is None):
        raise PublishError("--ca-cert and --ca-key go together")
    authority = pki.load_authority(args.ca_cert, args.ca_key) if args.ca_cert else None
    made = identity.provision(args.state_dir, args.device_id, authority)
    ensure_enc_key(args.state_dir)  # X25519: templates from the bureau are sealed to it
    if args.registry is not None:
        jwk = json.loads(made.public_jwk.read_text(encoding="utf-8"))
        identity.register_device(args.registry, args.device_id, jwk, args.tenant)
    print(f"signing key: {made.signing_key} (public: {made.public_jwk})")
    print(f"TLS key:     {made.tls_key}")
    print(f"enc key:     {args.state_dir / 'device.enc.key'} "
          f"(public: {args.state_dir / 'device.enc.pub.jwk'})")
    print(f"CSR:         {made.csr}")
    print(f"certificate: {made.cert or 'not issued: have the CSR signed'}")
    return 0
