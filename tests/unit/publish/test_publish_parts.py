"""Small parts: backoff, topics, telemetry, the bureau store's de-duplication."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from device.backoff import Backoff
from device.bureau.store import ResultStore, StoredResult
from device.errors import PublishError
from device.publish.telemetry import Telemetry, read_cpu_temp_c
from device.publish.topics import Topics, bureau_results, split


def test_backoff_doubles_with_jitter_caps_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, random.Random(4))
    delays = [backoff.next() for _ in range(7)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 1.0


def test_topics() -> None:
    topics = Topics("faceterm/v1", "t1", "dev-1")
    assert topics.result == "faceterm/v1/t1/dev-1/result"
    assert topics.commands == "faceterm/v1/t1/dev-1/cmd/#"
    assert bureau_results("faceterm/v1") == "$share/bureau/faceterm/v1/+/+/result"
    assert split(topics.result, "faceterm/v1") == ("t1", "dev-1", "result")
    assert split("other/t1/dev-1/result", "faceterm/v1") is None


def test_telemetry_payload(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert read_cpu_temp_c(zone) == 48.3
    assert read_cpu_temp_c(tmp_path / "absent") is None
    telemetry = Telemetry(str(zone))
    telemetry.models = {"embed": "sface@0123456789ab"}
    data = telemetry.payload(outbox_depth=3, link_error="refused")
    assert data["outbox_depth"] == 3 and data["cpu_temp_c"] == 48.3
    assert data["last_error"] == "refused" and data["models"]["embed"].startswith("sface")
    assert data["uptime_s"] >= 0


def _row(jti: str, seq: int) -> StoredResult:
    return StoredResult(jti, "dev-1", "t1", seq, 1, 1, "r1", {"decision": "pass"}, None)


def test_store_deduplicates_and_flags_replays(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r.db")
    store.open()
    assert store.insert(_row("a", 1), "d1", "tok") == "stored"
    assert store.insert(_row("a", 1), "d1", "tok") == "duplicate"
    assert store.insert(_row("a", 2), "d2", "tok2") == "replayed_id"
    assert store.insert(_row("b", 1), "d3", "tok3") == "replayed_seq"
    assert store.count() == 1
    assert [r.jti for r in store.rows()] == ["a"]
    store.close()


def test_store_needs_exactly_one_backend(tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        ResultStore()
    with pytest.raises(PublishError):
        ResultStore(tmp_path / "x", dsn="postgresql://x")
