"""Fleet commands over a real mosquitto (TLS, client certificates, ACLs) to a full kiosk daemon:
every attack is REJECTED with its reason and changes nothing; replays are refused even after a
restart; config.set that breaks the camera is rolled back and the device stays online."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from device.demo.broker import Mosquitto
from device.demo.site import Site
from device.fleet.client import FleetClient
from device.fleet.keyring import operator_entry
from device.fleet.sign import sign_command
from tests.support.fleet import (
    RunningKiosk,
    add_operator,
    ask,
    fleet_client,
    kiosk_sections,
    signed,
    site_and_broker,
)

pytestmark = pytest.mark.broker
DEVICE = "kiosk-fleet-1"
ROGUE = OKPKey.generate_key("Ed25519")
REVOKED = OKPKey.generate_key("Ed25519")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Mosquitto, Path]]:
    folder = tmp_path_factory.mktemp("fleet")
    with site_and_broker(folder) as (site, broker):
        config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(folder))
        add_operator(config, {**operator_entry("retired-1", REVOKED.as_dict(private=False),
                                                   ["admin"]), "revoked": True})
        yield site, broker, config


@pytest.fixture(scope="module")
def kiosk(world: tuple[Site, Mosquitto, Path]) -> Iterator[RunningKiosk]:
    running = RunningKiosk(world[2]).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(world: tuple[Site, Mosquitto, Path]) -> Iterator[FleetClient]:
    fleet = fleet_client(world[0], world[1])
    yield fleet
    fleet.close()


def not_json(site: Site) -> str:
    return jws.serialize_compact({"alg": "Ed25519", "kid": site.operator_kid}, b"{nope",
                                 site.operator(), ["Ed25519"])


ATTACKS: list[tuple[str, Callable[[Site], str], str]] = [
    ("unsigned", lambda s: signed(s, DEVICE, "thresholds.set", {"match_threshold": 0.9})
     .rsplit(".", 1)[0] + ".", "bad_signature"),
    ("wrong key", lambda s: sign_command(ROGUE, s.operator_kid, DEVICE, "thresholds.set",
                                         {"match_threshold": 0.9}), "bad_signature"),
    ("revoked key", lambda s: sign_command(REVOKED, "retired-1", DEVICE, "thresholds.set",
                                           {"match_threshold": 0.9}), "revoked_key"),
    ("expired", lambda s: signed(s, DEVICE, "thresholds.set", {"match_threshold": 0.9},
                                 ttl_s=60, now_s=time.time() - 3600), "expired"),
    ("not yet valid", lambda s: signed(s, DEVICE, "thresholds.set", {"match_threshold": 0.9},
                                       now_s=time.time() + 3600), "not_yet_valid"),
    ("wrong audience", lambda s: signed(s, "kiosk-other", "thresholds.set",
                                        {"match_threshold": 0.9}), "wrong_audience"),
    ("malformed JSON", not_json, "malformed"),
    ("not a JWS", lambda s: "garbage", "malformed"),
    ("oversize", lambda s: signed(s, DEVICE, "logs.tail", {"pad": "x" * 70_000}), "oversize"),
    ("unknown command", lambda s: signed(s, DEVICE, "shell.exec", {"cmd": "id"}),
     "unknown_command"),
    ("invalid params", lambda s: signed(s, DEVICE, "thresholds.set", {"match_threshold": 3}),
     "invalid_params"),
]


@pytest.mark.parametrize(("name", "make", "reason"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_rejected_and_changes_nothing(
    name: str, make: Callable[[Site], str], reason: str, world: tuple[Site, Mosquitto, Path],
    kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    before = config_path.read_bytes()
    assert kiosk.kiosk is not None
    threshold = kiosk.kiosk.config.session.match_threshold
    reply = ask(client, DEVICE, make(site))
    assert reply["status"] == "REJECTED"
    assert reply["reason"] == reason
    assert config_path.read_bytes() == before
    assert kiosk.kiosk.config.session.match_threshold == threshold


def test_replayed_command_is_refused_also_after_a_restart(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    token = signed(site, DEVICE, "thresholds.set", {"match_threshold": 0.37})
    first = ask(client, DEVICE, token)
    assert first["status"] == "SUCCEEDED", first
    assert "match_threshold = 0.37" in config_path.read_text()
    again = ask(client, DEVICE, token)
    assert (again["status"], again["reason"]) == ("REJECTED", "replayed")
    assert again["original"]["status"] == "SUCCEEDED"
    kiosk.stop()
    kiosk.start()
    after_restart = ask(client, DEVICE, token)
    assert (after_restart["status"], after_restart["reason"]) == ("REJECTED", "replayed")
    assert kiosk.kiosk is not None
    assert kiosk.kiosk.config.session.match_threshold == 0.37


def test_config_set_that_breaks_the_camera_is_rolled_back(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    before = config_path.read_text()
    reply = ask(client, DEVICE, signed(site, DEVICE, "config.set", {
        "changes": {"camera": {"replay_path": "/nonexistent/camera"}}}))
    assert (reply["status"], reply["reason"]) == ("FAILED", "rolled_back"), reply
    assert config_path.read_text() == before
    assert kiosk.kiosk is not None and kiosk.daemon is not None
    frames = kiosk.daemon.status()["camera"]["frames"]
    time.sleep(1.5)
    assert kiosk.daemon.status()["camera"]["frames"] > frames  # the old camera runs again
    status = ask(client, DEVICE, signed(site, DEVICE, "status.get"))
    assert status["status"] == "SUCCEEDED"
    assert status["result"]["publisher"]["connected"] is True


def test_config_set_refuses_an_invalid_value_before_writing(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    before = config_path.read_bytes()
    reply = ask(client, DEVICE, signed(site, DEVICE, "config.set", {
        "changes": {"session": {"max_attempts": 99}}}))
    assert (reply["status"], reply["reason"]) == ("FAILED", "invalid_config")
    assert "session.max_attempts" in reply["result"]["detail"]
    assert config_path.read_bytes() == before


def test_status_logs_and_selftest(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site = world[0]
    logs = ask(client, DEVICE, signed(site, DEVICE, "logs.tail", {"lines": 20}))
    assert logs["status"] == "SUCCEEDED" and logs["result"]["lines"]
    test = ask(client, DEVICE, signed(site, DEVICE, "selftest.run"), timeout_s=60)
    assert test["status"] == "SUCCEEDED", test
    names = {check["name"] for check in test["result"]["checks"]}
    assert {"models", "camera", "cardreader", "broker", "clock", "disk"} <= names
    assert client.collected.bad_signatures == 0


def test_templates_put_and_revoke_sealed_to_the_device(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    import numpy as np

    from device.fleet.sealed import encode_vector, seal
    from device.session.handler import open_templates

    site, _, config_path = world
    public = json.loads((config_path.parent / "device.enc.pub.jwk").read_text())
    number = "110101195806010153"
    vector = np.random.default_rng(3).normal(size=128).astype(np.float32)
    vector /= np.linalg.norm(vector)
    sealed = seal(public, {"id_number": number, "embedding": encode_vector(vector),
                           "model": "sface_fp16@cb32cc1c7868"})
    put = ask(client, DEVICE, signed(site, DEVICE, "templates.put", {"sealed": sealed}))
    assert put["status"] == "SUCCEEDED", put
    assert kiosk.kiosk is not None
    store = open_templates(kiosk.kiosk.config)
    reference = store.get(number)
    assert reference is not None and float(reference.embedding @ vector) > 0.999
    revoke = ask(client, DEVICE, signed(site, DEVICE, "templates.revoke",
                                        {"sealed": seal(public, {"id_number": number})}))
    assert revoke["status"] == "SUCCEEDED" and revoke["result"]["revoked"] is True
    assert store.get(number) is None
    forged = ask(client, DEVICE, signed(site, DEVICE, "templates.put", {"sealed": "x" * 40}))
    assert (forged["status"], forged["reason"]) == ("FAILED", "bad_payload")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"fleet": {"enabled": False}}, "locks_out"),
    ({"fleet": {"operators_file": "missing-operators.json"}}, "invalid_config"),
    ({"fleet": {"operators_file": "other-operators.json"}}, "locks_out"),
], ids=["fleet disabled", "operators file missing", "operators file without the sender"])
def test_config_set_that_would_lock_the_bureau_out_is_refused_before_writing(
    changes: dict[str, Any], reason: str, world: tuple[Site, Mosquitto, Path],
    kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    other = {"operators": [operator_entry("someone-else", ROGUE.as_dict(private=False),
                                          ["admin"])]}
    (config_path.parent / "other-operators.json").write_text(json.dumps(other))
    before = config_path.read_bytes()
    reply = ask(client, DEVICE, signed(site, DEVICE, "config.set", {"changes": changes}))
    assert (reply["status"], reply["reason"]) == ("FAILED", reason), reply
    assert config_path.read_bytes() == before
    assert not config_path.with_name(config_path.name + ".pending").exists()


@pytest.mark.parametrize("number", [
    "hello", "110101195806010154", "１１０１０１１９５８０６０１０¹５３"])
def test_templates_put_refuses_an_id_number_that_fails_gb_11643(
    number: str, world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    import numpy as np

    from device.fleet.sealed import encode_vector, seal

    site, _, config_path = world
    public = json.loads((config_path.parent / "device.enc.pub.jwk").read_text())
    vector = np.ones(128, dtype=np.float32) / np.sqrt(128.0)
    sealed = seal(public, {"id_number": number, "embedding": encode_vector(vector),
                           "model": "sface_fp16@cb32cc1c7868"})
    put = ask(client, DEVICE, signed(site, DEVICE, "templates.put", {"sealed": sealed}))
    assert (put["status"], put["reason"]) == ("FAILED", "bad_id_number"), put
    assert put["result"]["detail"] in ("id_format", "id_check_digit")
