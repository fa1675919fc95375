"""Template payloads from the bureau, sealed to the device's X25519 key (JWE ECDH-ES, A256GCM),
so that an enrolment made at a service window crosses the broker encrypted end to end."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from device.errors import CommandRejected
from device.secretfile import write_secret

ENC_KEY_NAME = "device.enc.key"
ALGS = ["ECDH-ES", "A256GCM"]


def ensure_enc_key(state_dir: Path) -> dict[str, Any]:
    """Create the device's X25519 key (0600) if missing; return its public JWK."""
    path = state_dir / ENC_KEY_NAME
    if not path.exists():
        pem = x25519.X25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret(path, pem, exclusive=True)
    public: dict[str, Any] = dict(load_enc_key(path).as_dict(private=False))
    exported = state_dir / "device.enc.pub.jwk"  # for the bureau: templates.put is sealed to it
    if not exported.exists():
        exported.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    return public


def load_enc_key(path: Path) -> OKPKey:
    key = OKPKey.import_key(path.read_bytes())
    if key.as_dict(private=False).get("crv") != "X25519":
        raise ValueError(f"{path}: not an X25519 key")
    return key


def seal(device_public: dict[str, Any], payload: dict[str, Any]) -> str:
    """Bureau side: encrypt a payload to one device."""
    key = OKPKey.import_key(device_public)
    data = json.dumps(payload, separators=(",", ":")).encode()
    return jwe.encrypt_compact({"alg": "ECDH-ES", "enc": "A256GCM"}, data, key, algorithms=ALGS)


def open_sealed(token: str, key: OKPKey) -> dict[str, Any]:
    """Device side: decrypt; CommandRejected('bad_payload') on any failure."""
    try:
        plaintext = jwe.decrypt_compact(token, key, algorithms=ALGS).plaintext
        data = json.loads(plaintext or b"")
    except (JoseError, ValueError) as exc:
        raise CommandRejected("bad_payload", "sealed payload does not open") from exc
    if not isinstance(data, dict):
        raise CommandRejected("bad_payload", "sealed payload is not an object")
    return data


def encode_vector(vector: npt.NDArray[np.floating[Any]]) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def decode_vector(text: str, size: int = 128) -> npt.NDArray[np.float32]:
    try:
        vector = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f4")
    except ValueError as exc:
        raise CommandRejected("bad_payload", "embedding is not base64") from exc
    if vector.shape != (size,) or not np.all(np.isfinite(vector)):
        raise CommandRejected("bad_payload", f"embedding must be {size} finite floats")
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        raise CommandRejected("bad_payload", "embedding is zero")
    return (vector / norm).astype(np.float32)
