"""A self-contained site for the demo and the end-to-end tests: a private CA with a broker
certificate, the bureau's keys and device registry, a bureau operator key, and kiosks
provisioned against them (simulated card reader and replay camera).

Everything is written under one directory and reused on the next run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from device.fleet.configstore import to_toml, write_atomically
from device.fleet.keyring import operator_entry
from device.publish import identity, pki
from device.secretfile import write_secret

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class Site:
    root: Path
    authority: pki.Authority
    ca_cert: Path
    server_cert: Path
    server_key: Path
    bureau_key: Path
    bureau_public: Path
    registry: Path
    operator_key: Path
    operator_kid: str

    @classmethod
    def create(cls, root: Path, operator_kid: str = "bureau-admin-1") -> Site:
        """Make (or reuse) the site's CA, broker certificate, bureau keys and operator key."""
        root.mkdir(parents=True, exist_ok=True)
        ca_dir = root / "ca"
        ca_dir.mkdir(exist_ok=True)
        if not (ca_dir / "ca.crt").exists():
            pki.write_authority(ca_dir, pki.make_ca("faceterm demo CA"))
            pki.issue_files(pki.load_authority(ca_dir / "ca.crt", ca_dir / "ca.key"), ca_dir,
                            "localhost", ("localhost", "127.0.0.1"))
        authority = pki.load_authority(ca_dir / "ca.crt", ca_dir / "ca.key")
        bureau = root / "bureau"
        if not (bureau / "bureau.key").exists():
            identity.make_bureau_keys(bureau)
            identity.write_json(bureau / "devices.json", {})
        operator = bureau / f"{operator_kid}.jwk"
        if not operator.exists():
            key = OKPKey.generate_key("Ed25519")
            write_secret(operator, json.dumps(key.as_dict(private=True)).encode("utf-8"))
        return cls(root, authority, ca_dir / "ca.crt", ca_dir / "localhost.crt",
                   ca_dir / "localhost.key", bureau / "bureau.key", bureau / "bureau.pub.jwk",
                   bureau / "devices.json", operator, operator_kid)

    def client_files(self, name: str) -> tuple[Path, Path]:
        """(certificate, key) for a bureau-side client such as "bureau" or "fleet"."""
        folder = self.root / "clients"
        folder.mkdir(exist_ok=True)
        cert, key = folder / f"{name}.crt", folder / f"{name}.key"
        if not cert.exists():
            return pki.issue_files(self.authority, folder, name)
        return cert, key

    def operator(self) -> OKPKey:
        return OKPKey.import_key(json.loads(self.operator_key.read_text(encoding="utf-8")))

    def provision_kiosk(
        self, device_id: str, port: int, sections: dict[str, dict[str, Any]] | None = None,
        tenant: str = "demo",
    ) -> Path:
        """Keys, certificate, registry entry, operators file and faceterm.toml for one kiosk."""
        state = self.root / "kiosks" / device_id
        made = identity.provision(state, device_id, self.authority)
        jwk = json.loads(made.public_jwk.read_text(encoding="utf-8"))
        identity.register_device(self.registry, device_id, jwk)
        public = self.operator().as_dict(private=False)
        operators = {"operators": [operator_entry(self.operator_kid, public, ["admin"])]}
        write_atomically(state / "operators.json", json.dumps(operators, indent=2))
        data: dict[str, dict[str, Any]] = {
            "device": {"id": device_id, "tenant": tenant, "state_dir": str(state)},
            "vision": {"models_dir": str(REPO_MODELS)},
            "identity": {"bureau_public_key": str(self.bureau_public)},
            "mqtt": {"host": "127.0.0.1", "port": port, "ca_cert": str(self.ca_cert),
                     "reconnect_min_s": 0.2, "reconnect_max_s": 2.0, "telemetry_interval_s": 5.0},
            "ui": {"enabled": False},
        }
        for name, values in (sections or {}).items():
            data.setdefault(name, {}).update(values)
        path = state / "faceterm.toml"
        write_atomically(path, to_toml(data))
        return path
