"""A small X.509 toolkit: a private CA, server and client certificates, CSRs and key files.

Used by `faceterm provision`, the demo and the test broker. TLS keys are ECDSA P-256 (what
mosquitto and every TLS stack accept); the result-signing key is a separate Ed25519 key
(device.publish.identity).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from device.errors import PublishError
from device.secretfile import write_secret

CERT_DAYS = 825


@dataclass(frozen=True, slots=True)
class Authority:
    """A certificate authority: its key and self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def new_tls_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_ca(common_name: str = "faceterm test CA", days: int = CERT_DAYS) -> Authority:
    key = new_tls_key()
    name = _name(common_name)
    start = _now() - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, cert)


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name))
    return builder.sign(key, hashes.SHA256())


def issue(
    ca: Authority,
    csr: x509.CertificateSigningRequest,
    *,
    server_names: Sequence[str] = (),
    days: int = CERT_DAYS,
) -> x509.Certificate:
    """Sign a CSR: a TLS client certificate, or a server certificate when names are given."""
    if not csr.is_signature_valid:
        raise PublishError("certificate request has an invalid signature")
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    start = _now() - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if server_names:
        builder = builder.add_extension(_san(server_names), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def write_private(path: Path, data: bytes) -> None:
    """Write secret bytes to a 0600 file (replacing any old one atomically)."""
    write_secret(path, data)


def write_tls_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem)


def write_pem(path: Path, item: x509.Certificate | x509.CertificateSigningRequest) -> None:
    path.write_bytes(item.public_bytes(serialization.Encoding.PEM))


def load_authority(cert_path: Path, key_path: Path) -> Authority:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PublishError(f"cannot load CA from {cert_path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PublishError(f"{key_path}: CA key must be an EC key")
    return Authority(key, cert)


def write_authority(directory: Path, ca: Authority, stem: str = "ca") -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    write_pem(cert_path, ca.cert)
    write_tls_key(key_path, ca.key)
    return cert_path, key_path


def issue_files(
    ca: Authority, directory: Path, common_name: str, server_names: Sequence[str] = ()
) -> tuple[Path, Path]:
    """Make a key and a CA-signed certificate for common_name; return (cert, key) paths."""
    key = new_tls_key()
    cert = issue(ca, make_csr(key, common_name), server_names=server_names)
    cert_path, key_path = directory / f"{common_name}.crt", directory / f"{common_name}.key"
    write_pem(cert_path, cert)
    write_tls_key(key_path, key)
    return cert_path, key_path
