"""docs/schemas/*.json are valid draft 2020-12, and the device's own messages validate against
them: decision records (pure session machine and the real SessionRunner), signed result claims
and headers with the sealed personal data, status and telemetry. No broker, no models run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey
from schema_support import DEVICE, ID_NUMBER, NAME, ROOT, check, refused

from device.clock import ClockState
from device.config import Config
from device.match.keys import subject_hash
from device.match.matcher import Matcher
from device.match.templates import Reference
from device.match.thresholds import DecidedWith
from device.publish import envelope
from device.publish.publisher import Publisher
from device.session import machine as m
from device.session.capture import Candidate, CaptureWindow
from device.session.record import Outcome, build_record, personal_data
from device.session.runner import SessionRunner
from device.session.settings import QualitySettings
from device.vision.models import Manifest


def test_every_schema_is_valid_draft_2020_12(schemas: dict[str, dict[str, Any]]) -> None:
    assert len(schemas) >= 15
    ids = set()
    for name, schema in schemas.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"] not in ids, f"{name}: duplicate $id"
        ids.add(schema["$id"])


def test_every_reference_resolves(schemas: dict[str, dict[str, Any]], registry: Any) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for schema in schemas.values():
        resolver = registry.resolver(base_uri=schema["$id"])
        for ref in refs(schema):
            resolver.lookup(ref)  # raises if unresolvable


# ---------------------------------------------------------------------------- decision records
def _run(events: list[m.Event], rules: m.Rules) -> m.Decide:
    """Step the pure session machine; the first Decide effect it emits."""
    session = m.Session()
    for event in events:
        session, effects = m.step(session, event, rules)
        for effect in effects:
            if isinstance(effect, m.Decide):
                return effect
    raise AssertionError("the machine did not decide")


def _record(decide: m.Decide, window: CaptureWindow, salt: bytes) -> dict[str, Any]:
    """What SessionRunner._publish builds from a Decide effect."""
    manifest = Manifest.load(ROOT / "models")
    used = ("face_detection_short_range", "face_landmark", "iris_landmark", "sface_fp16")
    models = {e.task: e.model_id for e in manifest.entries if e.name in used}
    scores = dict(decide.scores)
    reasons = (*decide.reasons, "worker_input") if decide.source == "worker" else decide.reasons
    outcome = Outcome(
        decision=decide.decision, reasons=reasons, attempt=decide.attempt,
        subject=subject_hash(salt, decide.id_number), match=scores.get("match"),
        liveness=scores.get("liveness"), quality=window.best_score(),
        quality_summary=window.summary(), models=models, timings_ms=dict(decide.timings_ms),
        decided_with=DecidedWith(models["embed"], 0.350495, False),
        clock=ClockState(True, "2026-11-25T08:00:00Z", 1801.3),
        consent=decide.consent, assisted=decide.assisted,
    )
    return build_record(outcome, DEVICE, dt.datetime(2026, 11, 25, 8, 30, 1, 250_000, dt.UTC))


def _window(good: int) -> CaptureWindow:
    window = CaptureWindow(3, 5)
    window.note(("blurred",))
    window.note(("too_dark",))
    crop = np.zeros((112, 112, 3), np.uint8)
    metrics = {"blurred": 412.5, "luma": 121.3, "head_turned": 4.2, "head_pitched": 2.0,
               "head_tilted": 1.1, "too_close": 0.41}
    for i in range(good):
        window.note(())
        window.offer(Candidate(2.1 + i * 0.1, crop, metrics))
    return window


def _records() -> list[dict[str, Any]]:
    salt = bytes(range(32))
    frames = [m.FrameChecked(1.0 + i * 0.1) for i in range(5)]
    live = m.Rules(liveness_enabled=True)
    bare = m.Rules(liveness_enabled=False)
    asks = m.Rules(liveness_enabled=False, kiosk_consent=True)
    identify = m.Identify(0.0, ID_NUMBER, True)
    cases = [
        (bare, [identify, *frames, m.MatchDone(2.0, True, 0.7123)], 5),
        (live, [identify, *frames, m.LivenessDone(4.0, "spoof", 0.2, ("passive_moire",))], 5),
        (live, [identify, *frames, m.LivenessDone(4.0, "live", 1.0),
                m.MatchDone(4.5, False, 0.12)], 5),
        (bare, [identify, m.FrameChecked(0.5, ("too_dark",)), m.Tick(31.0)], 0),
        (bare, [m.Identify(0.0, ID_NUMBER, False)], 0),
        (bare, [identify, m.CardRemoved(0.5)], 0),
        (bare, [m.Identify(0.0, ID_NUMBER, True, "worker", True), *frames,
                m.MatchDone(2.0, False, float("nan"))], 5),
        (asks, [identify, m.ConsentAnswer(3.0, False, "2026-12-03.1")], 0),
        (asks, [identify, m.ConsentAnswer(0.5, True, "2026-12-03.1", True, True), *frames,
                m.MatchDone(2.0, True, 0.61)], 5),
        (asks, [identify, m.Tick(200.0)], 0),
        (bare, [m.Identify(0.0, ID_NUMBER, True, "worker", False, "", "2026-12-03.1")], 0),
    ]
    return [_record(_run(events, rules), _window(good), salt) for rules, events, good in cases]


def test_decision_records_validate(schemas: dict[str, dict[str, Any]], registry: Any) -> None:
    records = _records()
    assert {r["decision"] for r in records} >= {"pass", "fail", "timeout", "no_reference",
                                               "cancelled", "declined"}
    assert {(r["consent"]["asked"], r["consent"]["accepted"], r["assisted"])
            for r in records} == {("outside", True, False), ("worker", True, True),
                                  ("kiosk", False, False), ("kiosk", True, True),
                                  ("worker", False, True)}
    for record in records:
        check(schemas, registry, "decision-record.schema.json", record)


def test_decision_record_schema_refuses_personal_data(
    schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    record = _records()[0]
    for leak in ("id_number", "name", "embedding", "image"):
        assert refused(schemas, registry, "decision-record.schema.json", {**record, leak: "x"})


def test_refer_after_the_last_attempt_validates(
    schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    rules = m.Rules(liveness_enabled=False, max_attempts=1)
    decide = _run([m.Identify(0.0, ID_NUMBER, True), *[m.FrameChecked(1.0)] * 5,
                   m.MatchDone(2.0, False, 0.1)], rules)
    assert decide.decision == "refer"
    check(schemas, registry, "decision-record.schema.json", _record(decide, _window(5), b"s" * 32))


class _Analyzer:
    """No face in any frame (the sessions below decide before or without analysis)."""

    def __init__(self) -> None:
        self.model_ids = {"detect": "face_detection_short_range@3bc182eb9f33",
                          "landmarks": "face_landmark@2efcb4f4de43"}

    def analyze(self, rgb: Any, with_iris: bool = False, max_faces: int = 2) -> list[Any]:
        return []

    def track(self, rgb: Any, with_iris: bool = False, lores: Any = None) -> list[Any]:
        return []

    def reset_track(self) -> None:
        pass


class _Embedder:
    model_id = "sface_fp16@cb32cc1c7868"

    def embed(self, aligned_rgb_112: Any) -> Any:
        return np.ones(128, np.float32) / np.sqrt(128)


class _References:
    def __init__(self, known: bool) -> None:
        self.known = known

    def get(self, id_number: str) -> Reference | None:
        if not self.known:
            return None
        return Reference(self.subject(id_number), _Embedder.model_id,
                         np.ones(128, np.float32) / np.sqrt(128), "enrol", 2)

    def subject(self, id_number: str) -> str:
        return subject_hash(b"k" * 32, id_number)


class _Card:
    id_number = ID_NUMBER
    name = NAME


def test_records_from_the_session_runner_validate(
    schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    """The real SessionRunner (stub models) on paths that need no face: no reference, card
    removed, no face in time, and a worker's entry."""
    records: list[dict[str, Any]] = []
    personal: list[dict[str, str]] = []

    def runner(known: bool) -> SessionRunner:
        return SessionRunner(
            rules=m.Rules(liveness_enabled=False), quality=QualitySettings(),
            analyzer=_Analyzer(), embedder=_Embedder(), matcher=Matcher(0.35),
            references=_References(known), on_view=lambda view: None,
            on_record=lambda r, p: (records.append(r), personal.append(p)), device_id=DEVICE,
        )

    runner(False).on_card(_Card(), 0.0)
    runner(True).on_card(_Card(), 0.0)
    with_card = runner(True)
    with_card.on_card(_Card(), 0.0)
    with_card.on_card_removed(1.0)
    idle = runner(True)
    idle.on_card(_Card(), 0.0)
    idle.on_tick(61.0)
    runner(False).on_worker_input(ID_NUMBER, True, 0.0)
    asking = runner(True)
    asking.rules = m.Rules(liveness_enabled=False, kiosk_consent=True)
    asking.on_card(_Card(), 0.0)
    asking.on_consent(False, "2026-12-03.1", True, 2.0)
    assert [r["decision"] for r in records] == ["no_reference", "cancelled", "timeout",
                                                 "no_reference", "declined"]
    assert records[-1]["consent"] == {"asked": "kiosk", "accepted": False,
                                      "notice_version": "2026-12-03.1"}
    assert "worker_input" in records[-2]["reasons"]
    for record in records:
        check(schemas, registry, "decision-record.schema.json", record)
    for data in personal:
        check(schemas, registry, "personal-data.schema.json", data)


# ---------------------------------------------------------------------------- signed results
def test_result_claims_header_and_sealed_pii_validate(
    schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    device_key = OKPKey.generate_key("Ed25519")
    bureau_key = OKPKey.generate_key("X25519")
    signer = envelope.Signer(DEVICE, device_key, bureau_key)
    record = _records()[0]
    for seq, personal in ((1, personal_data(ID_NUMBER, NAME)), (2, None)):
        made = signer.make(record, personal, seq)
        claims = envelope.verify(made.token, lambda kid: device_key if kid == DEVICE else None)
        check(schemas, registry, "result-claims.schema.json", claims)
        header = dict(jws.extract_compact(made.token.encode()).protected)
        check(schemas, registry, "result-header.schema.json", header)
        if personal is not None:
            clear = envelope.unseal_personal(claims["pii"], bureau_key, claims["jti"])
            check(schemas, registry, "personal-data.schema.json", clear)
        else:
            assert "pii" not in claims


# ---------------------------------------------------------------------------- status, telemetry
def _publisher(tmp_path: Path) -> Publisher:
    thermal = tmp_path / "temp"
    thermal.write_text("48312\n", encoding="ascii")
    config = Config.model_validate({
        "device": {"id": DEVICE, "tenant": "district-7", "state_dir": str(tmp_path)},
        "mqtt": {"thermal_zone_path": str(thermal)},
    })
    return Publisher(config)  # no I/O in the constructor


def test_status_payloads_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schemas: dict[str, dict[str, Any]],
    registry: Any,
) -> None:
    publisher = _publisher(tmp_path)
    sent: list[tuple[str, bytes, bool]] = []

    def capture(topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                properties: Any = None) -> int:
        sent.append((topic, payload if isinstance(payload, bytes) else payload.encode(), retain))
        return len(sent)

    monkeypatch.setattr(publisher.link, "publish", capture)
    publisher._connected()
    publisher.link.connected = True
    publisher._say_offline()
    will = publisher.link.config.will_payload
    assert publisher.link.config.will_topic == publisher.topics.status
    for topic, payload, retain in [*sent, (publisher.topics.status, will, True)]:
        assert topic == f"faceterm/v1/district-7/{DEVICE}/status" and retain
        check(schemas, registry, "status.schema.json", payload.decode("utf-8"))


def test_telemetry_validates(
    tmp_path: Path, schemas: dict[str, dict[str, Any]], registry: Any
) -> None:
    publisher = _publisher(tmp_path)
    first = publisher.telemetry_payload()
    assert first["cpu_temp_c"] == 48.3
    publisher.telemetry.models = dict(_records()[0]["models"])
    publisher.telemetry.last_error = "result seq 4 not delivered: No matching subscribers"
    for payload in (first, publisher.telemetry_payload()):
        check(schemas, registry, "telemetry.schema.json", json.loads(json.dumps(payload)))
