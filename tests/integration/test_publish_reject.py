"""The receiver rejects and counts tampered envelopes, unknown devices and replayed result ids."""

from __future__ import annotations

import base64
import json

import pytest

from device.publish import envelope as env
from tests.support.bureau_scene import Scene, scene

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass", "reasons": []}
__all__ = ["scene"]


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_envelopes_and_wire_duplicates(scene: Scene) -> None:
    first = scene.signer("dev-1").make(
        RECORD, {"id_number": "11010519491231002X", "name": "李四"}, 1
    )
    scene.send(first.token)
    scene.expect("stored", 1)
    scene.send(first.token)  # the same envelope again: a wire duplicate, dropped
    scene.expect("duplicate", 1)
    head, body, sig = first.token.split(".")
    scene.send(f"{head}.{body}.{sig[::-1]}")  # tampered signature
    forged = dict(_claims(first.token), record={**RECORD, "decision": "fail"})
    scene.send(f"{head}.{_b64(forged)}.{sig}")  # tampered record
    scene.expect("bad_signature", 2)
    scene.send("garbage")
    scene.expect("malformed", 1)
    assert scene.receiver.store.count() == 1
    stored = next(iter(scene.receiver.store.rows()))
    assert stored.record == RECORD and stored.personal == {
        "id_number": "11010519491231002X",
        "name": "李四",
    }


def test_unknown_device_key(scene: Scene) -> None:
    stranger = scene.signer("dev-x").make(RECORD, None, 1)
    devx = scene.broker.client(scene.pki.client("dev-x"))
    scene.send(stranger.token, "faceterm/v1/t1/dev-x/result", devx)
    scene.expect("unknown_device", 1)
    devx.disconnect()
    devx.loop_stop()
    assert scene.receiver.store.count() == 0


def test_replayed_result_id_and_seq(scene: Scene) -> None:
    first = scene.signer("dev-1").make(RECORD, None, 1)
    scene.send(first.token)
    scene.expect("stored", 1)
    replay = dict(_claims(first.token), seq=2, record={**RECORD, "decision": "refer"})
    scene.send(env.sign(replay, scene.keys["dev-1"], "dev-1"))  # a reused result id
    scene.expect("replayed_id", 1)
    scene.send(scene.signer("dev-1").make(RECORD, None, 1).token)  # new id, used seq
    scene.expect("replayed_seq", 1)
    other = scene.signer("dev-2").make(RECORD, None, 5)
    scene.send(other.token)  # dev-2's valid envelope on dev-1's topic
    scene.expect("topic_mismatch", 1)
    assert scene.receiver.store.count() == 1
    counters = scene.receiver.counters
    assert counters["dead_lettered"] == 3  # every refusal is kept, none blocks the stream
    assert sum(v for k, v in counters.items() if k != "dead_lettered") == 4
    assert len(scene.receiver.store.dead_letters()) == 3
