"""A session behind a virtual or swapped camera is referred with a clear reason, and the camera
identity travels in the signed record (verified by a second JOSE implementation, jwcrypto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from jwcrypto import jwk as jjwk
from jwcrypto import jws as jjws

from device.camera.identity import CameraCheck, CameraIdentity
from device.cardreader.card import IdCard
from device.match.keys import load_secrets
from device.match.matcher import Matcher
from device.match.templates import TemplateStore
from device.messages import catalogue
from device.publish.envelope import Signer
from device.session.machine import Rules
from device.session.offline import Collector
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

REPO = Path(__file__).resolve().parents[2]
ID = "11010519491231002X"
LOOPBACK = CameraIdentity("platform", "HD Webcam C525", driver="v4l2loopback", virtual=True)
USB = CameraIdentity("usb", "HD Webcam C525", "046d:0826", "A1B2C3", "uvcvideo")


@pytest.fixture(scope="module")
def vision():
    settings = VisionSettings(models_dir=str(REPO / "models"))
    return FaceAnalyzer.load(settings), Embedder.from_settings(settings)


def runner(tmp_path: Path, vision, sink: Collector) -> SessionRunner:
    analyzer, embedder = vision
    store = TemplateStore(tmp_path / "t.sqlite3", load_secrets(tmp_path, environ={}))
    store.open()
    rules = Rules(max_attempts=2, liveness_enabled=False)
    return SessionRunner(rules, QualitySettings(), analyzer, embedder, Matcher(0.35, 3), store,
                         sink.on_view, sink.on_record, "kiosk-test")


def card() -> IdCard:
    return IdCard("张三", "1", "01", ID[6:14], "", ID, "", "20200101", "长期")


@pytest.mark.parametrize(
    ("check", "reason"),
    [
        (CameraCheck(LOOPBACK, "camera_virtual"), "camera_virtual"),
        (CameraCheck(USB, "camera_changed"), "camera_changed"),
        (CameraCheck(USB, "camera_not_pinned"), "camera_not_pinned"),
    ],
)
def test_an_untrusted_camera_refers_the_session(tmp_path, vision, check, reason) -> None:
    sink = Collector()
    session = runner(tmp_path, vision, sink)
    session.on_camera(check)
    session.on_card(card(), 0.0)
    record = sink.records[0]
    assert record["decision"] == "refer"
    assert record["reasons"] == [reason]
    assert record["camera"] == check.identity.record()
    shown = sink.views[-1]
    assert shown["state"] == "decided" and reason in catalogue()
    assert catalogue()[reason][1].endswith("please ask staff")


def test_the_camera_identity_is_in_the_signed_record(tmp_path, vision) -> None:
    sink = Collector()
    session = runner(tmp_path, vision, sink)
    session.on_camera(CameraCheck(USB))
    session.on_card(card(), 0.0)  # no template enrolled: no_reference, still a signed record
    record = sink.records[0]
    assert record["decision"] == "no_reference"
    key = OKPKey.generate_key("Ed25519")
    envelope = Signer("kiosk-test", key, OKPKey.generate_key("X25519")).make(record, None, 1)
    verifier = jjws.JWS()
    verifier.deserialize(envelope.token)
    verifier.verify(jjwk.JWK(**key.as_dict(private=False)))
    claims = json.loads(verifier.payload)
    assert claims["record"]["camera"] == {
        "kind": "usb", "model": "HD Webcam C525", "usb_id": "046d:0826", "serial": "A1B2C3",
        "driver": "uvcvideo", "virtual": False,
    }
