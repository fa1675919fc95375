"""model.update over MQTT: a corrupted or unsigned artifact is refused, a model that fails the
self-test is rolled back, a good one is switched to atomically and telemetry reports it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from device.demo.broker import Mosquitto
from device.demo.site import REPO_MODELS, Site
from device.fleet.client import FleetClient
from device.fleet.sign import sign_artifact
from device.vision.models import file_sha256
from tests.support.fleet import (
    RunningKiosk,
    ask,
    fleet_client,
    kiosk_sections,
    signed,
    site_and_broker,
)

pytestmark = pytest.mark.broker
DEVICE = "kiosk-models-1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Path, RunningKiosk,
                                                                       FleetClient, Mosquitto]]:
    folder = tmp_path_factory.mktemp("models")
    with site_and_broker(folder) as (site, broker):
        config = site.provision_kiosk(DEVICE, broker.port, kiosk_sections(
            folder, mqtt={"telemetry_interval_s": 0.5}))
        kiosk = RunningKiosk(config).start()
        client = fleet_client(site, broker)
        yield site, folder, kiosk, client, broker
        client.close()
        kiosk.stop()


def update(site: Site, artifact: Path, name: str = "sface_fp16", sha: str | None = None,
           size: int | None = None, signer: Any = None) -> dict[str, Any]:
    sha = sha or file_sha256(artifact)
    size = size if size is not None else artifact.stat().st_size
    key = signer or site.operator()
    return {"name": name, "sha256": sha, "size": size, "url": artifact.as_uri(),
            "signature": sign_artifact(key, site.operator_kid, name, sha, size)}


def active_embed(kiosk: RunningKiosk) -> str:
    assert kiosk.kiosk is not None and kiosk.kiosk.handler is not None
    return kiosk.kiosk.handler.runner.embedder.model_id


def test_corrupted_artifact_is_refused(world: Any) -> None:
    site, folder, kiosk, client, _ = world
    good = REPO_MODELS / "sface_int8.tflite"
    bad = folder / "corrupt.tflite"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    before = active_embed(kiosk)
    params = update(site, bad, sha=file_sha256(good), size=good.stat().st_size)
    reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", params), timeout_s=60)
    assert (reply["status"], reply["reason"]) == ("FAILED", "artifact_invalid"), reply
    assert active_embed(kiosk) == before


def test_signature_must_cover_the_artifact(world: Any) -> None:
    site, folder, _, client, _ = world
    good = folder / "int8.tflite"
    shutil.copyfile(REPO_MODELS / "sface_int8.tflite", good)
    params = update(site, good)
    params["signature"] = sign_artifact(site.operator(), site.operator_kid, "sface_fp16",
                                        "0" * 64, params["size"])
    reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", params), timeout_s=60)
    assert (reply["status"], reply["reason"]) == ("FAILED", "artifact_invalid"), reply


def test_model_failing_the_selftest_is_rolled_back(world: Any) -> None:
    site, folder, kiosk, client, _ = world
    wrong = folder / "not-an-embedder.tflite"
    shutil.copyfile(REPO_MODELS / "face_landmark.tflite", wrong)  # loads, wrong outputs
    before = active_embed(kiosk)
    reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", update(site, wrong)),
                timeout_s=60)
    assert (reply["status"], reply["reason"]) == ("FAILED", "selftest_failed"), reply
    assert active_embed(kiosk) == before
    assert kiosk.kiosk is not None
    assert kiosk.kiosk.slots.active_dir() == REPO_MODELS  # still the shipped set


def test_good_model_switches_and_telemetry_reports_it(world: Any) -> None:
    site, folder, kiosk, client, _ = world
    new = folder / "retrained.tflite"
    shutil.copyfile(REPO_MODELS / "sface_int8.tflite", new)  # a different, valid embedder
    sha = file_sha256(new)
    reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", update(site, new)),
                timeout_s=90)
    assert reply["status"] == "SUCCEEDED", reply
    assert active_embed(kiosk) == f"sface_fp16@{sha[:12]}"
    assert kiosk.kiosk is not None
    assert kiosk.kiosk.slots.active_dir().name in ("slot-a", "slot-b")
    deadline = time.monotonic() + 10
    reported = None
    while time.monotonic() < deadline:
        reported = client.retained.get(DEVICE, {}).get("telemetry", {}).get("models", {})
        if reported.get("embed") == f"sface_fp16@{sha[:12]}":
            break
        time.sleep(0.2)
    assert reported and reported["embed"] == f"sface_fp16@{sha[:12]}"
    kiosk.stop()
    kiosk.start()  # the switch survives a restart
    assert active_embed(kiosk) == f"sface_fp16@{sha[:12]}"
