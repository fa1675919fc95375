"""model.update over MQTT: a corrupted or unsigned artifact is refused, a model that fails the
self-test is rolled back, a good one is switched to atomically and telemetry reports it; a file of
another variant cannot take an entry (and its threshold); file:// reads only the artifacts
directory and says nothing about other files."""

from __future__ import annotations

import json
import os
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
            folder, mqtt={"telemetry_interval_s": 0.5}, fleet={"artifacts_dir": str(folder)}))
        kiosk = RunningKiosk(config).start()
        client = fleet_client(site, broker)
        yield site, folder, kiosk, client, broker
        client.close()
        kiosk.stop()


FP16_THRESHOLD = 0.340495


def update(site: Site, artifact: Path, name: str = "sface_fp16", sha: str | None = None,
           size: int | None = None, signer: Any = None, variant: str = "sface_fp16",
           threshold: float | None = FP16_THRESHOLD, url: str | None = None) -> dict[str, Any]:
    sha = sha or file_sha256(artifact)
    size = size if size is not None else artifact.stat().st_size
    key = signer or site.operator()
    signature = sign_artifact(key, site.operator_kid, name, sha, size, variant, threshold)
    return {"name": name, "sha256": sha, "size": size, "variant": variant,
            "threshold": threshold, "url": url or artifact.as_uri(), "signature": signature}


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
                                        "0" * 64, params["size"], "sface_fp16", FP16_THRESHOLD)
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


def test_the_int8_embedder_under_the_fp16_entry_is_refused(world: Any) -> None:
    site, folder, kiosk, client, _ = world
    int8 = folder / "int8-as-fp16.tflite"
    shutil.copyfile(REPO_MODELS / "sface_int8.tflite", int8)
    before = active_embed(kiosk)
    for params in (update(site, int8, variant="sface_int8", threshold=0.335404),
                   update(site, int8, threshold=None)):  # a new file without its threshold
        reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", params), timeout_s=60)
        assert (reply["status"], reply["reason"]) == ("FAILED", "artifact_invalid"), reply
    assert active_embed(kiosk) == before


def test_file_urls_outside_the_artifacts_dir_reveal_neither_existence_nor_size(
    world: Any,
) -> None:
    site, folder, _, client, _ = world
    shipped = REPO_MODELS / "sface_fp16.tflite"  # exists, right hash, outside the directory
    link = folder / "escape.tflite"
    if not link.is_symlink():
        os.symlink(shipped, link)
    details = set()
    for url in (shipped.as_uri(), "file:///etc/passwd", "file:///nonexistent/x.tflite",
                link.as_uri(), (folder / "missing.tflite").as_uri(),
                f"file://{folder}/../{folder.name}/../../etc/passwd"):
        params = update(site, shipped, url=url)
        reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", params), timeout_s=60)
        assert (reply["status"], reply["reason"]) == ("FAILED", "artifact_unavailable"), reply
        details.add(reply["result"]["detail"])
    assert len(details) == 1  # one answer whatever the file
    assert not any(ch.isdigit() for ch in details.pop())


def test_good_model_switches_and_telemetry_reports_it(world: Any) -> None:
    site, folder, kiosk, client, _ = world
    new = folder / "retrained.tflite"
    new.write_bytes((REPO_MODELS / "sface_fp16.tflite").read_bytes() + b"\0" * 64)  # new file
    sha = file_sha256(new)
    reply = ask(client, DEVICE, signed(site, DEVICE, "model.update", update(
        site, new, threshold=0.3501)), timeout_s=90)
    assert reply["status"] == "SUCCEEDED", reply
    assert active_embed(kiosk) == f"sface_fp16@{sha[:12]}"
    assert kiosk.kiosk is not None
    active = kiosk.kiosk.slots.active_dir()
    assert active.name in ("slot-a", "slot-b")
    entry = next(m for m in json.loads((active / "manifest.json").read_text())["models"]
                 if m["name"] == "sface_fp16")
    assert (entry["sha256"], entry["threshold"]) == (sha, 0.3501)  # bound to the new file
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
