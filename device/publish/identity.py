"""Device and bureau identities: key files, provisioning, and the bureau's device registry.

A device has two keys: an Ed25519 key that signs results (JWS) and an ECDSA P-256 TLS key whose
certificate (CN = device id) authenticates it to the broker. The bureau has an X25519 key to which
personal data is sealed (JWE). The registry the bureau keeps is JSON: {device id: public JWK}.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import NameOID
from joserfc.jwk import OKPKey

from device.errors import PublishError
from device.publish import pki

CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SIGNING_KEY_NAME = "device.key"


@dataclass(frozen=True, slots=True)
class Provisioned:
    """Files written by provision(); cert is None when no CA was given (send the CSR)."""

    signing_key: Path
    public_jwk: Path
    tls_key: Path
    csr: Path
    cert: Path | None


def _pem_private(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_jwk(key: OKPKey, kid: str | None = None) -> dict[str, Any]:
    """The public half of an OKP key as a JWK dict (never the private part)."""
    data: dict[str, Any] = dict(key.as_dict(private=False))
    if kid:
        data["kid"] = kid
    return data


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_okp(path: Path, what: str) -> OKPKey:
    """Load an OKP key (PEM or JWK JSON) from path; PublishError naming the file, not the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PublishError(f"{path}: cannot read {what}: {exc.strerror}") from exc
    try:
        if raw.lstrip().startswith(b"{"):
            return OKPKey.import_key(json.loads(raw))
        return OKPKey.import_key(raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise PublishError(f"{path}: not a valid {what}") from exc


def signing_key_path(configured: Path) -> Path:
    """$CREDENTIALS_DIRECTORY/device.key (systemd LoadCredential) if present, else configured."""
    directory = os.environ.get(CREDENTIALS_ENV)
    if directory:
        candidate = Path(directory) / SIGNING_KEY_NAME
        if candidate.exists():
            return candidate
    return configured


def load_signing_key(configured: Path) -> OKPKey:
    key = load_okp(signing_key_path(configured), "device signing key")
    if key.as_dict(private=False).get("crv") != "Ed25519" or not key.is_private:
        raise PublishError(f"{configured}: device signing key must be a private Ed25519 key")
    return key


def check_certificate(path: Path, device_id: str) -> None:
    """Fail unless path holds a certificate whose CN is device_id (the broker's username)."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path}: no device certificate (run `faceterm provision`)") from exc
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != device_id:
        raise PublishError(f"{path}: certificate is not for device {device_id!r}")


def provision(
    state_dir: Path, device_id: str, authority: pki.Authority | None = None
) -> Provisioned:
    """Create the device's keys (keeping existing ones), CSR and, given a CA, its certificate."""
    if not DEVICE_ID_RE.match(device_id):
        raise PublishError(f"device id {device_id!r} must match {DEVICE_ID_RE.pattern}")
    state_dir.mkdir(parents=True, exist_ok=True)
    signing = state_dir / SIGNING_KEY_NAME
    if not signing.exists():
        pki.write_private(signing, _pem_private(ed25519.Ed25519PrivateKey.generate()))
    jwk_path = state_dir / "device.pub.jwk"
    write_json(jwk_path, public_jwk(load_signing_key(signing), device_id))
    tls_key_path = state_dir / "device.tls.key"
    if not tls_key_path.exists():
        pki.write_tls_key(tls_key_path, pki.new_tls_key())
    tls_key = serialization.load_pem_private_key(tls_key_path.read_bytes(), password=None)
    if not isinstance(tls_key, ec.EllipticCurvePrivateKey):
        raise PublishError(f"{tls_key_path}: TLS key must be an EC key")
    csr = pki.make_csr(tls_key, device_id)
    csr_path = state_dir / "device.csr"
    pki.write_pem(csr_path, csr)
    cert_path = None
    if authority is not None:
        cert_path = state_dir / "device.crt"
        pki.write_pem(cert_path, pki.issue(authority, csr))
    return Provisioned(signing, jwk_path, tls_key_path, csr_path, cert_path)


def make_bureau_keys(directory: Path) -> tuple[Path, Path]:
    """An X25519 key pair for sealing personal data: (private PEM 0600, public JWK) paths."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "bureau.key", directory / "bureau.pub.jwk"
    pki.write_private(private_path, _pem_private(x25519.X25519PrivateKey.generate()))
    write_json(public_path, public_jwk(load_okp(private_path, "bureau key"), "bureau"))
    return private_path, public_path


def load_registry(path: Path) -> dict[str, OKPKey]:
    """The bureau's registry {device id: Ed25519 public key}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path}: cannot read device registry: {exc}") from exc
    if not isinstance(data, dict):
        raise PublishError(f"{path}: device registry must be a JSON object")
    registry = {}
    for device_id, value in data.items():
        jwk: Any = value["jwk"] if isinstance(value, dict) and "jwk" in value else value
        try:
            key = OKPKey.import_key(jwk)
        except (ValueError, TypeError, KeyError) as exc:
            raise PublishError(f"{path}: bad key for device {device_id!r}") from exc
        if key.is_private or jwk.get("crv") != "Ed25519":
            raise PublishError(f"{path}: device {device_id!r} needs a public Ed25519 JWK")
        registry[device_id] = key
    return registry


def register_device(registry_path: Path, device_id: str, jwk: dict[str, Any],
                    tenant: str | None = None) -> None:
    """Add or replace a device's public key (and the tenant it belongs to) in the registry."""
    data: dict[str, Any] = {}
    if registry_path.exists():
        data = json.loads(registry_path.read_text(encoding="utf-8"))
    public = {k: v for k, v in jwk.items() if k != "d"}
    data[device_id] = {"jwk": public, "tenant": tenant} if tenant else public
    write_json(registry_path, data)
