"""The outbox under damage: garbage and truncated files, a full disk, permanent refusals, and the
sequence file beside the device key that keeps seq going when the outbox is lost."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.publish.envelope import Envelope, uuid7
from device.publish.outbox import Outbox
from device.publish.sequence import SequenceFile
from device.storage import DiskFull


def _build(seq: int) -> Envelope:
    return Envelope(str(uuid7()), seq, "x" * 3000)


def _outbox(path: Path, sequence: SequenceFile | None = None, max_rows: int = 100) -> Outbox:
    box = Outbox(path, max_rows, 0.8, next_seq=sequence.next if sequence else None)
    box.open()
    return box


def test_a_garbage_outbox_is_renamed_aside_and_results_are_stored_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(os.urandom(8192))
    with caplog.at_level(logging.ERROR):
        box = _outbox(path)
    assert box.renamed_to is not None and (tmp_path / box.renamed_to).exists()
    assert f"renamed aside to {box.renamed_to}" in caplog.text
    assert box.append("t", _build).seq == 1 and box.status()["renamed_to"] == box.renamed_to
    box.close()


def test_a_half_truncated_outbox_is_renamed_aside_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    box = _outbox(path)
    for _ in range(60):
        box.append("t", _build)
    box.close()
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    box = _outbox(path)
    assert box.renamed_to is not None and box.depth == 0
    box.close()


def test_a_refused_result_moves_to_quarantine_and_later_ones_stay_pending(tmp_path: Path) -> None:
    box = _outbox(tmp_path / "o.db")
    for _ in range(3):
        box.append("t", _build)
    assert box.quarantine(1, 135, "Not authorized")
    assert [row.seq for row in box.pending(0, 10)] == [2, 3]
    assert box.quarantine_rows()[0][0] == 1 and box.quarantine_rows()[0][2:] == (
        135, "Not authorized")
    box.close()
    box = _outbox(tmp_path / "o.db")  # the quarantine survives a restart
    assert box.status()["quarantined"] == 1 and box.depth == 2
    box.close()


def test_seq_continues_after_the_outbox_file_is_deleted(tmp_path: Path) -> None:
    sequence = SequenceFile(tmp_path / "device.seq", reserve=4)
    sequence.open()
    box = _outbox(tmp_path / "o.db", sequence)
    used = [box.append("t", _build).seq for _ in range(6)]
    box.close()
    for name in ("o.db", "o.db-wal", "o.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    again = SequenceFile(tmp_path / "device.seq", reserve=4)
    again.open()
    box = _outbox(tmp_path / "o.db", again)
    after = [box.append("t", _build).seq for _ in range(4)]
    box.close()
    assert used == [1, 2, 3, 4, 5, 6] and min(after) > max(used)
    assert again.epoch == sequence.epoch and not again.new_epoch
    assert after == sorted(after) and len(set(after)) == 4


def test_the_sequence_file_is_private_and_reserved_ahead(tmp_path: Path) -> None:
    sequence = SequenceFile(tmp_path / "device.seq", reserve=10)
    sequence.open()
    assert [sequence.next(0) for _ in range(3)] == [1, 2, 3]
    stored = json.loads((tmp_path / "device.seq").read_text())
    assert stored["high_water"] >= 3 and stored["epoch"] == sequence.epoch
    assert (tmp_path / "device.seq").stat().st_mode & 0o777 == 0o600
    assert sequence.next(57) == 58  # the outbox's own counter never goes backwards either


def test_a_lost_sequence_file_starts_a_new_epoch_above_the_outbox(tmp_path: Path) -> None:
    sequence = SequenceFile(tmp_path / "device.seq")
    sequence.open()
    box = _outbox(tmp_path / "o.db", sequence)
    box.append("t", _build)
    box.close()
    (tmp_path / "device.seq").write_text("{not json")
    fresh = SequenceFile(tmp_path / "device.seq")
    fresh.open()
    assert fresh.new_epoch and fresh.epoch != sequence.epoch
    box = _outbox(tmp_path / "o.db", fresh)
    assert box.append("t", _build).seq == 2  # no seq collides with a row still in the outbox
    box.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and mount; skipped elsewhere, storage's own test covers a
    size-limited database without root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=10)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_reported_as_disk_full_and_clears_when_room_returns(
    small_disk: Path,
) -> None:
    sequence = SequenceFile(small_disk / "device.seq")
    sequence.open()
    box = _outbox(small_disk / "outbox.sqlite3", sequence)
    box.append("t", _build)
    filler = _fill(small_disk)
    with pytest.raises(DiskFull, match="disk full"):
        for _ in range(200):
            box.append("t", _build)
    problem = box.problem()
    assert problem is not None and "disk full" in problem and "rollback" not in problem
    filler.unlink()
    assert box.problem() is None
    assert box.append("t", _build).seq > 1
    box.close()
