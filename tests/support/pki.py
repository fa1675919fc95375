"""A throw-away PKI for tests and the demo: a CA, a localhost server certificate, client certs.

    pki = TestPki.create(tmp_path / "pki")
    device = pki.client("dev-1")          # ClientFiles(cert, key, ca) with CN = "dev-1"
    bureau = pki.client("bureau")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from device.publish import pki as x509kit

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
