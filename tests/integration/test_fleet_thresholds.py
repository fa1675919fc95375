"""thresholds.set over a real mosquitto to a full kiosk daemon: the decision threshold stays
inside the embed model's manifest range (floor: its FAR 1e-3 threshold, ceiling: its
threshold_ceiling) for an operator; only an admin with `override: true` may leave it, and the
override shows in telemetry and in the next signed record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from device.demo.broker import Mosquitto
from device.demo.site import Site
from device.events import WorkerInput
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
DEVICE = "kiosk-thresholds-1"
OPERATOR = OKPKey.generate_key("Ed25519")
UNKNOWN_PERSON = "11010519491231002X"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Mosquitto, Path]]:
    folder = tmp_path_factory.mktemp("thresholds")
    with site_and_broker(folder) as (site, broker):
        config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(folder))
        add_operator(config, operator_entry("operator-1", OPERATOR.as_dict(private=False),
                                                ["operator"]))
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


def by_operator(params: dict[str, object]) -> str:
    return sign_command(OPERATOR, "operator-1", DEVICE, "thresholds.set", params)


def in_use(kiosk: RunningKiosk, threshold: float) -> dict[str, object]:
    """Telemetry's decided_with once the kiosk decides with `threshold` (a new setting is
    applied when the person in front has finished)."""
    assert kiosk.kiosk is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        decided = kiosk.kiosk.publisher.telemetry_payload()["decided_with"]
        if decided and decided["threshold"] == threshold:
            return dict(decided)
        time.sleep(0.05)
    raise AssertionError(f"threshold {threshold} not in use")


def next_record(kiosk: RunningKiosk) -> dict[str, object]:
    """A decision made now (a keyed-in person with no reference: no_reference at once)."""
    assert kiosk.kiosk is not None and kiosk.kiosk.handler is not None
    handler = kiosk.kiosk.handler
    before = handler.runner.counters["records"]
    assert kiosk.kiosk.bus.post(WorkerInput(UNKNOWN_PERSON, "worker-1", True), timeout_s=5)
    deadline = time.monotonic() + 20
    while handler.runner.counters["records"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    record = handler.runner.last_record
    assert record is not None and handler.runner.counters["records"] > before
    return record


@pytest.mark.parametrize("value", [0.0, -0.99, 0.999, 0.3])
def test_thresholds_set_by_an_operator_outside_the_manifest_range_is_rejected(
    value: float, world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk,
    client: FleetClient,
) -> None:
    before = world[2].read_bytes()
    reply = ask(client, DEVICE, by_operator({"match_threshold": value}))
    assert (reply["status"], reply["reason"]) == ("REJECTED", "threshold_out_of_range"), reply
    assert world[2].read_bytes() == before


def test_an_operator_may_not_override_the_range(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    before = world[2].read_bytes()
    reply = ask(client, DEVICE, by_operator({"match_threshold": 0.0, "override": True}))
    assert (reply["status"], reply["reason"]) == ("REJECTED", "forbidden"), reply
    assert world[2].read_bytes() == before


def test_an_operator_may_set_a_threshold_inside_the_range(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    reply = ask(client, DEVICE, by_operator({"match_threshold": 0.37}))
    assert reply["status"] == "SUCCEEDED", reply
    assert in_use(kiosk, 0.37)["override"] is False
    assert next_record(kiosk)["decided_with"] == {
        "model": kiosk.kiosk.handler.runner.embedder.model_id,  # type: ignore[union-attr]
        "threshold": 0.37, "override": False}


def test_an_admin_override_is_visible_in_telemetry_and_the_next_record(
    world: tuple[Site, Mosquitto, Path], kiosk: RunningKiosk, client: FleetClient,
) -> None:
    site, _, config_path = world
    reply = ask(client, DEVICE, signed(site, DEVICE, "thresholds.set",
                                       {"match_threshold": 0.3, "override": True}))
    assert reply["status"] == "SUCCEEDED", reply
    assert "match_threshold_override = true" in config_path.read_text()
    telemetry = in_use(kiosk, 0.3)
    assert telemetry["override"] is True
    assert next_record(kiosk)["decided_with"] == telemetry
    back = ask(client, DEVICE, by_operator({"match_threshold": 0.38}))
    assert back["status"] == "SUCCEEDED", back
    assert "match_threshold_override = false" in config_path.read_text()
    assert in_use(kiosk, 0.38)["override"] is False
    assert next_record(kiosk)["decided_with"]["override"] is False  # type: ignore[index]
