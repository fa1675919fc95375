"""docs/schemas/*.json against the fleet channel's real messages: signed commands and their
parameters (and what the device refuses), sealed template payloads, model artifact signatures,
job replies, signed replies on the channel, operators.json and the bureau's device registry."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from schema_support import DEVICE, ID_NUMBER, NOW, check, refused

from device.errors import CommandRejected
from device.fleet import sealed
from device.fleet.auth import Audience, verify, verify_artifact
from device.fleet.channel import FleetChannel
from device.fleet.client import verify_reply
from device.fleet.commands import SCHEMAS as COMMAND_PARAMS
from device.fleet.commands import ModelUpdate, parse_params
from device.fleet.jobs import JobPolicy, JobRunner
from device.fleet.keyring import ROLES, Keyring, operator_entry
from device.fleet.replay import JobStore
from device.fleet.sign import sign_artifact, sign_command
from device.publish import identity
from device.publish.topics import Topics

SEALED = "eyJhbGciOiJFQ0RILUVTIn0..placeholder.ciphertext.tag"
PARAMS: dict[str, dict[str, Any] | None] = {
    "status.get": None,
    "config.get": {},
    "config.set": {"changes": {"session": {"max_attempts": 2}}, "restart": False},
    "thresholds.set": {"match_threshold": 0.36},
    "templates.put": {"sealed": SEALED},
    "templates.revoke": {"sealed": SEALED},
    "model.update": {"name": "sface_fp16", "sha256": "ab" * 32, "size": 1_234_567,
                     "variant": "sface_fp16", "threshold": 0.3405,
                     "url": "https://models.example.invalid/sface.tflite",
                     "signature": "x" * 40},
    "service.restart": {"delay_s": 2.5},
    "selftest.run": {},
    "logs.tail": {"lines": 50},
    "outbox.flush": {},
}
BAD_PARAMS = [
    ("status.get", {"verbose": True}),
    ("config.set", {"changes": {}}),
    ("thresholds.set", {"match_threshold": 1.5}),
    ("templates.put", {"sealed": "short"}),
    ("model.update", {"name": "sface", "sha256": "AB" * 32, "size": 1, "url": "ftp://x",
                      "signature": "x" * 40}),
    ("service.restart", {"delay_s": 301}),
    ("logs.tail", {"lines": 0}),
]


def test_signed_commands_validate(
    operator_key: OKPKey, keyring: Keyring, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    assert set(PARAMS) == set(COMMAND_PARAMS), "a command was added or removed: update the docs"
    viewer = {"status.get", "config.get", "selftest.run", "logs.tail"}
    operator = viewer | {"thresholds.set", "templates.put", "templates.revoke", "outbox.flush",
                         "service.restart"}
    documented = {"viewer": viewer, "operator": operator, "admin": set(COMMAND_PARAMS)}
    assert {k: set(v) for k, v in ROLES.items()} == documented, "update docs/provisioning.md"
    enum = schemas["command-claims.schema.json"]["properties"]["cmd"]["enum"]
    assert set(enum) == set(COMMAND_PARAMS)
    audience = Audience(DEVICE, groups=("district-7",))
    for index, (name, params) in enumerate(PARAMS.items()):
        aud: str | list[str] = DEVICE if index % 2 else ["group:district-7", "kiosk-99"]
        token = sign_command(operator_key, "ops-admin-2026", aud, name, params, now_s=NOW)
        command = verify(token.encode(), keyring, audience, NOW, 120.0, 65536)
        assert command.name == name
        compact = jws.extract_compact(token.encode())
        check(schemas, registry, "command-header.schema.json", dict(compact.protected))
        check(schemas, registry, "command-claims.schema.json", json.loads(compact.payload))


def test_schema_refuses_what_the_device_refuses(
    schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    for name, params in BAD_PARAMS:
        with pytest.raises(CommandRejected):
            parse_params(name, params)
        claims = {"aud": DEVICE, "iat": NOW, "exp": NOW + 60, "jti": "j" * 16, "cmd": name,
                  "params": params}
        assert refused(schemas, registry, "command-claims.schema.json", claims), name
    unknown = {"aud": DEVICE, "iat": NOW, "exp": NOW + 60, "jti": "j" * 16, "cmd": "reboot"}
    assert refused(schemas, registry, "command-claims.schema.json", unknown)


def test_sealed_template_payloads_validate(
    tmp_path: Path, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    public = sealed.ensure_enc_key(tmp_path)
    key = sealed.load_enc_key(tmp_path / sealed.ENC_KEY_NAME)
    vector = np.random.default_rng(7).normal(size=128).astype(np.float32)
    payloads = [
        {"id_number": ID_NUMBER, "model": "sface_fp16@cb32cc1c7868",
         "embedding": sealed.encode_vector(vector / np.linalg.norm(vector))},
        {"id_number": ID_NUMBER},
    ]
    for payload in payloads:
        opened = sealed.open_sealed(sealed.seal(public, payload), key)
        check(schemas, registry, "template-payload.schema.json", opened)
        if "embedding" in opened:
            assert sealed.decode_vector(opened["embedding"]).shape == (128,)


def test_model_artifact_signature_validates(
    operator_key: OKPKey, keyring: Keyring, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    params = ModelUpdate(name="sface_fp16", sha256="cd" * 32, size=987_654, variant="sface_fp16",
                         threshold=0.3405, url="https://bureau.example/m.tflite",
                         signature="x" * 20)
    signature = sign_artifact(operator_key, "ops-admin-2026", "sface_fp16", "cd" * 32, 987_654,
                              "sface_fp16", 0.3405)
    assert verify_artifact(signature, keyring, params, NOW)
    payload = json.loads(jws.extract_compact(signature.encode()).payload)
    check(schemas, registry, "model-artifact.schema.json", payload)


def test_job_replies_validate(
    tmp_path: Path, operator_key: OKPKey, keyring: Keyring,
    schemas: dict[str, dict[str, Any]], registry: Any,
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.open()

    def failing(command: Any) -> dict[str, Any]:
        raise CommandRejected("selftest_failed", "models: golden pair scored 0.12")

    handlers = {"status.get": lambda command: {"state": "idle", "outbox": {"depth": 0}},
                "selftest.run": failing}
    runner = JobRunner(keyring, store, JobPolicy(Audience(DEVICE), 120.0, 65536), handlers,
                       clock=lambda: NOW)
    progress: list[dict[str, Any]] = []

    def sign(name: str, aud: str = DEVICE, jti: str | None = None) -> bytes:
        return sign_command(operator_key, "ops-admin-2026", aud, name, now_s=NOW,
                            jti=jti).encode()

    ok = sign("status.get")
    replies = [
        runner.process(ok, progress.append),
        runner.process(ok),  # replayed
        runner.process(sign("status.get", aud="kiosk-99")),  # wrong audience
        runner.process(sign("selftest.run"), progress.append),  # handler fails
        runner.process(sign("outbox.flush")),  # no handler here
        runner.process(b"not.a.token"),
    ]
    statuses = [r["status"] for r in replies]
    assert statuses == ["SUCCEEDED", "REJECTED", "REJECTED", "FAILED", "FAILED", "REJECTED"]
    store.claim("interrupted-job-1", "config.set", NOW, NOW + 300, NOW)
    assert runner.recover() == ["interrupted-job-1"]
    stored = [store.get("interrupted-job-1"), store.get(replies[0]["jti"])]
    for reply in [*replies, *progress, *stored]:
        check(schemas, registry, "job-reply.schema.json", json.loads(json.dumps(reply)))
    store.close()


def test_signed_replies_on_the_channel_validate(
    tmp_path: Path, operator_key: OKPKey, keyring: Keyring,
    schemas: dict[str, dict[str, Any]], registry: Any,
) -> None:
    device_key = OKPKey.generate_key("Ed25519")
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.open()
    runner = JobRunner(keyring, store, JobPolicy(Audience(DEVICE), 120.0, 65536),
                       {"status.get": lambda command: {"state": "idle"}})
    topics = Topics("faceterm/v1", "district-7", DEVICE)
    sent: list[tuple[str, bytes, Any]] = []

    def send(topic: str, payload: bytes, qos: int, retain: bool, props: Any) -> None:
        assert qos == 1 and not retain
        sent.append((topic, payload, props))

    channel = FleetChannel(runner, send, topics, device_key, queue_size=1)
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ResponseTopic = f"{topics.base}/reply/s1"
    props.CorrelationData = b"kiosk-07:s1"
    token = sign_command(operator_key, "ops-admin-2026", DEVICE, "status.get").encode()
    channel.on_command(f"{topics.base}/cmd/status.get", token, props)
    channel.on_command(f"{topics.base}/cmd/status.get", token, props)  # queue full: busy
    channel.start()
    deadline = time.monotonic() + 5.0
    while len(sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    channel.stop()
    store.close()
    statuses = []
    for topic, payload, out in sent:
        assert topic == f"{topics.base}/reply/s1"
        assert out.CorrelationData == b"kiosk-07:s1"
        compact = jws.extract_compact(payload)
        check(schemas, registry, "reply-header.schema.json", dict(compact.protected))
        check(schemas, registry, "reply-claims.schema.json", json.loads(compact.payload))
        device, reply = verify_reply(payload, {DEVICE: device_key})
        assert device == DEVICE
        statuses.append(reply["status"])
    assert statuses == ["REJECTED", "IN_PROGRESS", "SUCCEEDED"]


# ---------------------------------------------------------------------------- key files
def test_operators_file_validates(
    operator_key: OKPKey, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    other = OKPKey.generate_key("Ed25519")
    document = {"operators": [
        operator_entry("ops-admin-2026", operator_key.as_dict(private=False), ["admin"]),
        {**operator_entry("ops-view-2025", other.as_dict(private=False), ["viewer"]),
         "not_after": "2026-12-31T23:59:59+00:00", "revoked": True},
    ]}
    Keyring.from_data(document)
    check(schemas, registry, "operators.schema.json", document)
    leaked = {"operators": [{**document["operators"][0],
                             "jwk": operator_key.as_dict(private=True)}]}
    assert refused(schemas, registry, "operators.schema.json", leaked)


def test_device_registry_validates(
    tmp_path: Path, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    made = identity.provision(tmp_path / "creds", DEVICE)
    jwk = json.loads(made.public_jwk.read_text(encoding="utf-8"))
    path = tmp_path / "devices.json"
    identity.register_device(path, DEVICE, jwk)
    assert DEVICE in identity.load_registry(path)
    check(schemas, registry, "device-registry.schema.json",
          json.loads(path.read_text(encoding="utf-8")))
