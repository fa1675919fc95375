"""The bureau receiver under attack: every bad message refused with a reason, dead-lettered,
never blocking; run on SQLite and on a real PostgreSQL (one code path)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from device.bureau.receiver import Receiver
from device.bureau.registry import DeviceRegistry
from device.bureau.store import ResultStore
from device.publish import envelope as env
from device.publish.mqtt import LinkConfig
from tests.support.postgres import postgres_cluster, postgres_dsn  # noqa: F401 (fixtures)

RECORD = {"schema": "faceterm.decision/1", "decision": "pass"}
PERSONAL = {"id_number": "11010519491231002X", "name": "王五"}


class Site:
    """A registry file, a bureau key, devices with their signing keys, and a Receiver."""

    def __init__(self, root: Path, store: ResultStore) -> None:
        self.registry_path, self.revoked_path = root / "devices.json", root / "revoked.json"
        self.bureau = OKPKey.generate_key("X25519")
        self.keys: dict[str, OKPKey] = {}
        self.entries: dict[str, Any] = {}
        self.seq: dict[str, int] = {}
        for device, tenant in (("dev-a", "t1"), ("dev-b", "t1"), ("dev-c", "t2")):
            self.add(device, tenant)
        link = LinkConfig(host="127.0.0.1", port=1, ca_cert="", client_cert="",
                          client_key="", client_id="bureau-t")
        self.receiver = Receiver(link, DeviceRegistry(self.registry_path, self.revoked_path),
                                 self.bureau, store)
        store.open()
        self.store = store

    def add(self, device: str, tenant: str | None) -> None:
        self.keys[device] = OKPKey.generate_key("Ed25519")
        public = self.keys[device].as_dict(private=False)
        self.entries[device] = public if tenant is None else {"tenant": tenant, "key": public}
        self.write()

    def write(self) -> None:
        self.registry_path.write_text(json.dumps(self.entries), encoding="utf-8")
        time.sleep(0.01)  # a new mtime

    def claims(self, device: str, **changes: Any) -> dict[str, Any]:
        self.seq[device] = self.seq.get(device, 0) + 1
        jti = str(env.uuid7())
        claims: dict[str, Any] = {"iss": device, "iat": int(time.time()), "jti": jti,
                                  "seq": self.seq[device], "record": dict(RECORD),
                                  "pii": env.seal_personal(PERSONAL, self.bureau, jti)}
        claims.update(changes)
        return claims

    def token(self, device: str, claims: dict[str, Any] | bytes) -> bytes:
        payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
        header = {"alg": "Ed25519", "kid": device, "typ": env.TYPE}
        return jws.serialize_compact(header, payload, self.keys[device],
                                     algorithms=["Ed25519"]).encode()

    def send(self, device: str, claims: dict[str, Any] | bytes, tenant: str = "t1") -> str:
        outcome = self.receiver.handle(f"faceterm/v1/{tenant}/{device}/result",
                                       self.token(device, claims))
        self.store.commit()
        return outcome

    def good(self, device: str = "dev-b", n: int = 10) -> list[str]:
        return [self.send(device, self.claims(device)) for _ in range(n)]


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    if request.param == "sqlite":
        store = ResultStore(tmp_path / "results.db")
    else:
        store = ResultStore(dsn=request.getfixturevalue("postgres_dsn"))
    made = Site(tmp_path, store)
    yield made
    store.close()


POISON = {
    "seq 2**63": {"seq": 2**63},
    "iat 2**63": {"iat": 2**63},
    "exp 2**63": {"exp": 2**63},
    "lone surrogate in the record": {"record": {"decision": "\ud800"}},
    "NUL in the record": {"record": {"decision": "pa\x00ss"}},
    "integer 2**70 in the record": {"record": {"decision": "pass", "n": 2**70}},
    "bool as seq": {"seq": True},
}


@pytest.mark.parametrize("change", POISON.values(), ids=list(POISON))
def test_a_poison_result_is_dead_lettered_and_later_results_are_stored(
    site: Site, change: dict[str, Any]
) -> None:
    assert site.send("dev-a", site.claims("dev-a", **change)) == "bad_claims"
    assert site.good("dev-b") == ["stored"] * 10
    assert site.store.count() == 10
    assert [d.reason for d in site.store.dead_letters()] == ["bad_claims"]
    assert site.store.dead_letters()[0].device_id == "dev-a"


@pytest.mark.parametrize("payload", [
    b'{"iss":"dev-a","iss":"dev-b","iat":1,"jti":"x","seq":1,"record":{}}',
    b'{"iss":"dev-a","iat":NaN,"jti":"x","seq":1,"record":{}}',
    b'{"iss":"dev-a","iat":Infinity,"jti":"x","seq":1,"record":{}}',
    b'{"iss":"dev-a","iat":1,"jti":"x","seq":1,"record":{"s":1e400}}',
], ids=["duplicate key", "NaN", "Infinity", "float overflow"])
def test_json_with_duplicate_keys_or_non_finite_numbers_is_refused(
    site: Site, payload: bytes
) -> None:
    assert site.send("dev-a", payload) == "malformed"
    assert site.store.count() == 0 and len(site.store.dead_letters()) == 1


@pytest.mark.parametrize("iat", [0, -1, 2**40, int(time.time()) - 31 * 86400,
                                 int(time.time()) + 3600])
def test_a_result_outside_the_freshness_window_is_refused(site: Site, iat: int) -> None:
    outcome = site.send("dev-a", site.claims("dev-a", iat=iat))
    assert outcome in ("stale", "from_future", "bad_claims")
    assert outcome != "bad_claims" or iat < 0
    assert site.store.count() == 0


def test_a_record_with_an_unsynced_clock_is_accepted_and_flagged(site: Site) -> None:
    clock = {"synced": False, "last_sync_utc": None, "since_sync_s": None}
    old = site.claims("dev-a", iat=86400, record={**RECORD, "clock": clock})
    assert site.send("dev-a", old) == "stored"
    assert site.send("dev-a", site.claims("dev-a")) == "stored"
    rows = sorted(site.store.rows(), key=lambda r: r.seq)
    assert [r.clock_unsynced for r in rows] == [True, False]


def test_the_tenant_comes_from_the_registry_not_the_topic(site: Site) -> None:
    assert site.send("dev-c", site.claims("dev-c"), tenant="t1") == "wrong_tenant"
    assert site.send("dev-c", site.claims("dev-c"), tenant="t2") == "stored"
    site.add("dev-old", None)  # a bare JWK entry: no tenant known
    assert site.send("dev-old", site.claims("dev-old")) == "no_tenant"
    assert {r.tenant for r in site.store.rows()} == {"t2"}


def test_a_revoked_or_removed_device_is_refused_without_restart(site: Site) -> None:
    assert site.send("dev-a", site.claims("dev-a")) == "stored"
    site.revoked_path.write_text('["dev-a"]', encoding="utf-8")
    assert site.send("dev-a", site.claims("dev-a")) == "revoked"
    del site.entries["dev-b"]
    site.write()
    assert site.send("dev-b", site.claims("dev-b")) == "unknown_device"


def test_pii_copied_from_another_result_is_refused(site: Site) -> None:
    victim = site.claims("dev-b")
    assert site.send("dev-b", victim) == "stored"
    assert site.send("dev-a", site.claims("dev-a", pii=victim["pii"])) == "pii_unbound"
    unbound = env.jwe.encrypt_compact({"alg": "ECDH-ES", "enc": "A256GCM"},
                                      json.dumps(PERSONAL).encode(), site.bureau)
    assert site.send("dev-a", site.claims("dev-a", pii=unbound)) == "pii_unbound"
    assert site.store.count() == 1


def test_a_replayed_seq_with_a_new_jti_is_refused_and_logged_at_warning(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    first = site.claims("dev-a")
    assert site.send("dev-a", first) == "stored"
    with caplog.at_level(logging.DEBUG, logger="device.bureau.receiver"):
        assert site.send("dev-a", first) == "duplicate"
        replay = dict(first, jti=str(env.uuid7()))
        replay["pii"] = env.seal_personal(PERSONAL, site.bureau, replay["jti"])
        assert site.send("dev-a", replay) == "replayed_seq"
    levels = {r.getMessage().split(": ")[1].split(" ")[0]: r.levelno for r in caplog.records}
    assert levels["duplicate"] == logging.DEBUG
    assert levels["replayed_seq"] == logging.WARNING
    assert [d.reason for d in site.store.dead_letters()] == ["replayed_seq"]


def test_a_new_epoch_is_logged_as_a_sequence_reset_and_stored(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    epoch1, epoch2 = str(uuid.uuid4()), str(uuid.uuid4())
    for _ in range(3):
        assert site.send("dev-a", site.claims("dev-a", epoch=epoch1)) == "stored"
    site.seq["dev-a"] = 0  # the outbox was lost: the counter starts again, in a new epoch
    with caplog.at_level(logging.INFO, logger="device.bureau.receiver"):
        assert [site.send("dev-a", site.claims("dev-a", epoch=epoch2))
                for _ in range(4)] == ["stored"] * 4
    assert any("sequence reset" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    assert site.store.count() == 7


def test_retention_purges_results_dead_letters_and_audit_rows_by_age(site: Site) -> None:
    site.good("dev-b", 3)
    site.send("dev-a", site.claims("dev-a", seq=2**63))
    assert site.store.purge(3600) == {"results": 0, "dead_letter": 0, "audit": 0}
    later = time.time_ns() + 2 * 3600 * 10**9
    assert site.store.purge(3600, now_ns=later) == {"results": 3, "dead_letter": 1, "audit": 0}
    assert site.store.count() == 0


def test_migrations_are_versioned_and_applied_once(site: Site) -> None:
    assert site.store.schema_versions() == [1, 2]
    site.store.close()
    site.store.open()
    assert site.store.schema_versions() == [1, 2]
