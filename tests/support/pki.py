"""A throw-away PKI for tests and the demo: a CA, a localhost server certificate, client certs.

    pki = TestPki.create(tmp_path / "pki")
    device = pki.client("dev-1")          # ClientFiles(cert, key, ca) with CN = "dev-1"
    bureau = pki.client("bureau")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.bureau.receiver import Receiver
from device.bureau.registry import DeviceRegistry
from device.bureau.store import ResultStore
from device.config import Config
from device.publish import identity
from device.publish import pki as x509kit
from device.publish.mqtt import LinkConfig

SERVER_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class ClientFiles:
    """Files a TLS client needs: its certificate, key, and the CA that signed the server."""

    name: str
    cert: Path
    key: Path
    ca: Path


@dataclass
class TestPki:
    directory: Path
    authority: x509kit.Authority
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    _clients: dict[str, ClientFiles] = field(default_factory=dict)

    __test__ = False  # not a pytest test class

    @classmethod
    def create(cls, directory: Path) -> TestPki:
        directory.mkdir(parents=True, exist_ok=True)
        authority = x509kit.make_ca()
        ca_cert, ca_key = x509kit.write_authority(directory, authority)
        server_cert, server_key = x509kit.issue_files(
            authority, directory, "localhost", SERVER_NAMES
        )
        return cls(directory, authority, ca_cert, ca_key, server_cert, server_key)

    def client(self, name: str) -> ClientFiles:
        """A client certificate with CN = name (made once, then reused)."""
        if name not in self._clients:
            cert, key = x509kit.issue_files(self.authority, self.directory, name)
            self._clients[name] = ClientFiles(name, cert, key, self.ca_cert)
        return self._clients[name]

    def foreign_client(self, name: str) -> ClientFiles:
        """A client certificate for name signed by a different CA (the broker must refuse it)."""
        other = x509kit.make_ca("foreign CA")
        folder = self.directory / "foreign"
        folder.mkdir(exist_ok=True)
        cert, key = x509kit.issue_files(other, folder, name)
        return ClientFiles(name, cert, key, self.ca_cert)


# --------------------------------------------------------------------------------------------
# Devices and bureau for publishing tests and the demo
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BureauFiles:
    key: Path  # X25519 private key (PEM, 0600)
    public_jwk: Path
    registry: Path  # {device id: public Ed25519 JWK}


def make_bureau(directory: Path) -> BureauFiles:
    private, public = identity.make_bureau_keys(directory)
    registry = directory / "devices.json"
    identity.write_json(registry, {})
    return BureauFiles(private, public, registry)


def provision_device(
    pki: TestPki,
    bureau: BureauFiles,
    state_dir: Path,
    device_id: str,
    port: int,
    *,
    tenant: str = "t1",
    host: str = "127.0.0.1",
    register: bool = True,
    **sections: dict[str, Any],
) -> Config:
    """Provision a device (keys, CSR signed by the test CA) and return its Config.

    `sections` override config sections, e.g. outbox={"max_rows": 50}.
    """
    made = identity.provision(state_dir, device_id, pki.authority)
    if register:
        jwk = json.loads(made.public_jwk.read_text(encoding="utf-8"))
        identity.register_device(bureau.registry, device_id, jwk, tenant)
    data: dict[str, Any] = {
        "device": {"id": device_id, "tenant": tenant, "state_dir": str(state_dir)},
        "identity": {"bureau_public_key": str(bureau.public_jwk)},
        "mqtt": {"host": host, "port": port, "ca_cert": str(pki.ca_cert),
                 "reconnect_min_s": 0.1, "reconnect_max_s": 1.0, "connect_timeout_s": 5.0,
                 "no_subscriber_retry_s": 0.2},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Config.model_validate(data)


def receiver_link(pki: TestPki, host: str, port: int, name: str) -> LinkConfig:
    """Link settings for a bureau receiver (certificate CN "bureau", client id = name)."""
    files = pki.client("bureau")
    return LinkConfig(host=host, port=port, ca_cert=str(files.ca), client_cert=str(files.cert),
                      client_key=str(files.key), client_id=name, reconnect_min_s=0.1,
                      reconnect_max_s=1.0, connect_timeout_s=5.0)


def make_receiver(pki: TestPki, bureau: BureauFiles, host: str, port: int, db: Path,
                  name: str = "bureau-1") -> Receiver:
    """A bureau Receiver (not started) reading the registry file (re-read when it changes)."""
    return Receiver(receiver_link(pki, host, port, name), DeviceRegistry(bureau.registry),
                    identity.load_okp(bureau.key, "bureau key"), ResultStore(db))
