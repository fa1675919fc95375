"""Bureau side: sign a command for a device or a group (used by faceterm-fleet and tests)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

ALG = "Ed25519"  # RFC 9864's name for EdDSA over Ed25519 (RFC 8037), as results use


def sign_command(
    key: OKPKey,
    kid: str,
    audience: str | list[str],
    command: str,
    params: dict[str, Any] | None = None,
    ttl_s: float = 300.0,
    now_s: float | None = None,
    jti: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A compact JWS (alg Ed25519) over the command claims."""
    issued = time.time() if now_s is None else now_s
    claims: dict[str, Any] = {
        "iss": kid,
        "aud": audience,
        "iat": int(issued),
        "exp": int(issued + ttl_s),
        "jti": jti or secrets.token_hex(16),
        "cmd": command,
        "params": params or {},
        **(extra or {}),
    }
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact({"alg": ALG, "kid": kid}, payload, key, [ALG])


def sign_artifact(key: OKPKey, kid: str, name: str, sha256: str, size: int, variant: str,
                  threshold: float | None) -> str:
    """The bureau's signature over a model artifact (checked by the device before install): the
    file, the manifest entry it replaces, its variant and the threshold calibrated for it."""
    payload = json.dumps({"name": name, "sha256": sha256, "size": size, "variant": variant,
                          "threshold": threshold}).encode()
    return jws.serialize_compact({"alg": ALG, "kid": kid}, payload, key, [ALG])
