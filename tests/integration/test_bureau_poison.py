"""With real mosquitto and the real receiver: validly signed poison from one device is
dead-lettered and never blocks the results of another, also across a receiver restart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from joserfc import jws

from device.bureau.store import ResultStore
from device.publish import envelope as env
from device.publish import identity
from device.publish.publisher import Publisher
from tests.support.broker import Broker
from tests.support.pki import TestPki, make_bureau, make_receiver, provision_device

pytestmark = pytest.mark.broker
RECORD = {"schema": "faceterm.decision/1", "decision": "pass"}
TIMEOUT_S = 60.0  # generous under load; no timing is asserted


def _poison(key_path: Path, seq: int, iat: int, decision: str) -> bytes:
    claims = {"iss": "dev-a", "iat": iat, "jti": str(env.uuid7()), "seq": seq,
              "record": {**RECORD, "decision": decision}}
    header = {"alg": env.SIG_ALG, "kid": "dev-a", "typ": env.TYPE}
    return jws.serialize_compact(header, json.dumps(claims).encode(),  # "\\ud800" escaped
                                 identity.load_signing_key(key_path),
                                 algorithms=[env.SIG_ALG]).encode()


def _wait_count(store: ResultStore, count: int) -> int:
    deadline = time.monotonic() + TIMEOUT_S
    while store.count() < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return store.count()


def test_poison_from_a_signed_device_is_dead_lettered_and_later_results_are_stored(
    tmp_path: Path,
) -> None:
    pki = TestPki.create(tmp_path / "pki")
    bureau = make_bureau(tmp_path / "bureau")
    db = tmp_path / "results.db"
    with Broker(pki, tmp_path / "broker") as broker:
        poisoner = provision_device(pki, bureau, tmp_path / "dev-a", "dev-a", broker.port)
        good = Publisher(provision_device(pki, bureau, tmp_path / "dev-b", "dev-b", broker.port))
        key_path = Path(poisoner.device.state_dir) / "device.key"
        attacker = broker.client(pki.client("dev-a"))
        topic = "faceterm/v1/t1/dev-a/result"
        receiver = make_receiver(pki, bureau, broker.host, broker.port, db)
        receiver.start()
        assert receiver.wait_ready(30)
        now = int(time.time())
        attacker.publish(topic, _poison(key_path, 2**63, now, "pass"), qos=1).wait_for_publish(10)
        good.start()
        for _ in range(10):
            good.submit(RECORD, None)
        reader = ResultStore(db)
        reader.open()
        assert _wait_count(reader, 10) == 10
        receiver.stop()
        # while the receiver is down: more poison waits in its persistent session
        for payload in (_poison(key_path, 1, 2**63, "pass"), _poison(key_path, 2, now, "\ud800")):
            attacker.publish(topic, payload, qos=1).wait_for_publish(10)
        for _ in range(10):
            good.submit(RECORD, None)
        restarted = make_receiver(pki, bureau, broker.host, broker.port, db)
        restarted.start()
        assert _wait_count(reader, 20) == 20
        deadline = time.monotonic() + TIMEOUT_S
        while len(reader.dead_letters()) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        letters = reader.dead_letters()
        good.stop()
        restarted.stop()
        attacker.loop_stop()
        attacker.disconnect()
    assert sorted(d.reason for d in letters) == ["bad_claims"] * 3
    assert {d.device_id for d in letters} == {"dev-a"}
    rows = list(reader.rows())
    reader.close()
    assert len(rows) == 20 and {r.device_id for r in rows} == {"dev-b"}
    print(json.dumps({"stored_after_poison": len(rows), "dead_letters": len(letters)}))
