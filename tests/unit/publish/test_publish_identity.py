"""Provisioning: key files and modes, CSR and certificate, systemd credentials, the registry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from device import cli
from device.errors import PublishError
from device.publish import identity, pki


def _cn(cert: x509.Certificate | x509.CertificateSigningRequest) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_provision_cli_with_ca(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca_cert, ca_key = pki.write_authority(tmp_path, pki.make_ca())
    state = tmp_path / "state"
    registry = tmp_path / "devices.json"
    code = cli.main(["provision", "--state-dir", str(state), "--device-id", "kiosk-7",
                     "--ca-cert", str(ca_cert), "--ca-key", str(ca_key),
                     "--registry", str(registry)])
    assert code == 0
    key_mode = stat.S_IMODE((state / "device.key").stat().st_mode)
    assert key_mode == 0o600 and stat.S_IMODE((state / "device.tls.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((state / "device.crt").read_bytes())
    assert _cn(cert) == "kiosk-7"
    ca = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    keys = identity.load_registry(registry)
    signing = identity.load_signing_key(state / "device.key")
    assert keys["kiosk-7"].as_dict()["x"] == signing.as_dict(private=False)["x"]
    out = capsys.readouterr().out
    assert "PRIVATE" not in out and signing.as_dict(private=True)["d"] not in out


def test_provision_without_ca_writes_csr_and_keeps_keys(tmp_path: Path) -> None:
    first = identity.provision(tmp_path, "kiosk-8")
    assert first.cert is None
    csr = x509.load_pem_x509_csr(first.csr.read_bytes())
    assert _cn(csr) == "kiosk-8" and csr.is_signature_valid
    before = first.signing_key.read_bytes()
    identity.provision(tmp_path, "kiosk-8")
    assert first.signing_key.read_bytes() == before
    with pytest.raises(PublishError, match="device id"):
        identity.provision(tmp_path, "bad/id")


def test_signing_key_from_systemd_credentials(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    made = identity.provision(tmp_path / "a", "kiosk-9")
    other = identity.provision(tmp_path / "b", "kiosk-9")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "b"))
    loaded = identity.load_signing_key(made.signing_key)
    expected = json.loads(other.public_jwk.read_text())
    assert loaded.as_dict(private=False)["x"] == expected["x"]


def test_registry_rejects_private_or_wrong_keys(tmp_path: Path) -> None:
    private, public = identity.make_bureau_keys(tmp_path)
    registry = tmp_path / "devices.json"
    registry.write_text(json.dumps({"d1": json.loads(public.read_text())}))
    with pytest.raises(PublishError, match="Ed25519"):
        identity.load_registry(registry)
    with pytest.raises(PublishError, match="device signing key"):
        identity.load_signing_key(private)


def test_certificate_must_name_the_device(tmp_path: Path) -> None:
    made = identity.provision(tmp_path, "kiosk-1", pki.make_ca())
    assert made.cert is not None
    identity.check_certificate(made.cert, "kiosk-1")
    with pytest.raises(PublishError, match="not for device"):
        identity.check_certificate(made.cert, "kiosk-2")
    with pytest.raises(PublishError, match="faceterm provision"):
        identity.check_certificate(tmp_path / "absent.crt", "kiosk-1")


def test_backoff_settings_are_checked() -> None:
    from device.config import parse
    from device.errors import ConfigError

    with pytest.raises(ConfigError, match="reconnect_max_s"):
        parse("[mqtt]\nreconnect_min_s = 10.0\nreconnect_max_s = 2.0\n")
