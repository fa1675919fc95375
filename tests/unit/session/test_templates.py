"""The templates store on a real SQLite file: encryption at rest, AAD binding, key handling."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from device.errors import ConfigError
from device.match.keys import load_secrets, subject_hash
from device.match.templates import TemplateError, TemplateStore, seal

ID = "11010519491231002X"
OTHER = "110108195103150023"
MODEL = "sface_fp16@cb32cc1c7868"


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def store(tmp_path):
    s = TemplateStore(
        tmp_path / "state" / "templates.sqlite3", load_secrets(tmp_path / "state", environ={})
    )
    s.open()
    return s


def raw_bytes(directory) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def test_round_trip_and_no_plaintext_on_disk(store, tmp_path):
    embedding = vector(1)
    subject = store.put(ID, embedding, MODEL, "enrol", images=2)
    store.put(OTHER, vector(2), MODEL, "enrol")
    got = store.get(ID)
    assert got is not None and got.subject == subject and got.images == 2
    np.testing.assert_array_equal(got.embedding, embedding)
    disk = raw_bytes(tmp_path / "state")  # the database, its WAL and the secrets
    clear = embedding.astype("<f4").tobytes()
    assert clear not in disk
    # not even two consecutive floats of it, in either byte order
    for order in ("<f4", ">f4"):
        data = embedding.astype(order).tobytes()
        assert not any(data[i : i + 8] in disk for i in range(0, len(data) - 8, 4))
    assert ID.encode() not in disk and ID.encode("utf-16-le") not in disk
    assert ID[:14].encode() not in disk


def test_files_are_private_and_key_is_reused(tmp_path, store):
    state = tmp_path / "state"
    for name in ("templates.key", "templates.salt", "templates.sqlite3"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    store.put(ID, vector(3), MODEL, "enrol")
    again = TemplateStore(state / "templates.sqlite3", load_secrets(state, environ={}))
    assert again.get(ID) is not None


def test_ciphertext_moved_to_another_row_does_not_decrypt(store, tmp_path):
    store.put(ID, vector(4), MODEL, "enrol")
    store.put(OTHER, vector(5), MODEL, "enrol")
    db = sqlite3.connect(tmp_path / "state" / "templates.sqlite3")
    with db:
        nonce, sealed = db.execute(
            "SELECT nonce, sealed FROM templates WHERE subject = ?", (store.subject(ID),)
        ).fetchone()
        db.execute(
            "UPDATE templates SET nonce = ?, sealed = ? WHERE subject = ?",
            (nonce, sealed, store.subject(OTHER)),
        )
    db.close()
    with pytest.raises(TemplateError):
        store.get(OTHER)
    assert store.get(ID) is not None


def test_wrong_key_does_not_decrypt(store, tmp_path):
    store.put(ID, vector(6), MODEL, "enrol")
    other_state = tmp_path / "other"
    secrets = load_secrets(other_state, environ={})
    salt_only = type(secrets)(
        key=secrets.key, salt=load_secrets(tmp_path / "state", environ={}).salt
    )
    with pytest.raises(TemplateError):
        TemplateStore(tmp_path / "state" / "templates.sqlite3", salt_only).get(ID)


def test_put_sealed_accepts_only_rows_sealed_with_this_key(store, tmp_path):
    secrets = load_secrets(tmp_path / "state", environ={})
    subject = subject_hash(secrets.salt, ID)
    nonce, sealed = seal(secrets.key, subject, MODEL, vector(7))
    store.put_sealed(subject, MODEL, nonce, sealed, "fleet")
    assert store.get(ID).source == "fleet"
    foreign_key = os.urandom(32)
    nonce, sealed = seal(foreign_key, subject, MODEL, vector(7))
    with pytest.raises(TemplateError):
        store.put_sealed(subject, MODEL, nonce, sealed, "fleet")


def test_revoke(store):
    store.put(ID, vector(8), MODEL, "enrol")
    assert store.count() == 1
    assert store.revoke(ID) is True
    assert store.get(ID) is None and store.revoke(ID) is False


def test_bad_vectors_are_refused(store):
    with pytest.raises(TemplateError):
        store.put(ID, np.zeros(64, dtype=np.float32), MODEL, "enrol")
    with pytest.raises(TemplateError):
        store.put(ID, np.full(128, np.nan, dtype=np.float32), MODEL, "enrol")


def test_credentials_directory_wins_and_is_checked(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "templates.key").write_bytes(b"k" * 32)
    (creds / "templates.salt").write_bytes(b"s" * 32)
    secrets = load_secrets(tmp_path / "state", environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert (secrets.key, secrets.salt) == (b"k" * 32, b"s" * 32)
    assert not (tmp_path / "state" / "templates.key").exists()
    assert "k" not in repr(secrets)
    (creds / "templates.key").write_bytes(b"short")
    with pytest.raises(ConfigError):
        load_secrets(tmp_path / "state", environ={"CREDENTIALS_DIRECTORY": str(creds)})


def test_world_readable_key_file_is_refused(tmp_path):
    load_secrets(tmp_path, environ={})
    os.chmod(tmp_path / "templates.key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secrets(tmp_path, environ={})


def test_subject_hash_is_salted_and_normalised():
    assert subject_hash(b"a" * 32, ID) == subject_hash(b"a" * 32, ID.lower())
    assert subject_hash(b"a" * 32, ID) != subject_hash(b"b" * 32, ID)
    assert len(subject_hash(b"a" * 32, ID)) == 64


def test_no_new_secret_is_made_beside_existing_templates(tmp_path: Path) -> None:
    """Run by hand without the service's credentials, enrol/verify must not create a fresh key
    that cannot read (and would orphan) the templates already stored."""
    from device.config import Config
    from device.session.handler import open_templates

    config = Config.model_validate({"device": {"state_dir": str(tmp_path)}})
    store = open_templates(config, environ={})
    store.put("110101195806010153", vector(1), "sface_fp16@x", source="test")
    (tmp_path / "templates.key").unlink()
    with pytest.raises(ConfigError, match="templates already exist"):
        open_templates(config, environ={})


def test_the_adapted_reference_is_sealed_beside_the_enrolment(store, tmp_path):
    enrolment, adapted = vector(5), vector(6)
    subject = store.put(ID, enrolment, MODEL, "enrol")
    assert store.put_adapted(subject, MODEL, adapted) == 1
    assert store.put_adapted(subject, MODEL, adapted) == 2
    got = store.get(ID)
    assert got is not None and got.updates == 2
    np.testing.assert_array_equal(got.embedding, adapted)
    np.testing.assert_array_equal(got.enrolment(), enrolment)
    assert adapted.astype("<f4").tobytes() not in raw_bytes(tmp_path / "state")
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "templates.sqlite3").st_mode) == 0o600
    # an adapted ciphertext put in place of the enrolment does not decrypt (own AAD prefix)
    with sqlite3.connect(tmp_path / "state" / "templates.sqlite3") as db:
        nonce, sealed = db.execute("SELECT nonce, sealed FROM adapted").fetchone()
        db.execute("UPDATE templates SET nonce = ?, sealed = ?", (nonce, sealed))
    with pytest.raises(TemplateError):
        store.get(ID)


def test_no_adapted_reference_without_an_enrolment_of_that_model(store):
    with pytest.raises(TemplateError):
        store.put_adapted(subject_hash(b"x" * 32, ID), MODEL, vector(7))
    subject = store.put(ID, vector(8), MODEL, "enrol")
    with pytest.raises(TemplateError):
        store.put_adapted(subject, "other@000000000000", vector(9))
    store.put_adapted(subject, MODEL, vector(9))
    assert store.revoke(ID) and store.get(ID) is None
    store.put(ID, vector(8), MODEL, "enrol")  # enrolled again: no adapted reference left
    got = store.get(ID)
    assert got is not None and got.original is None and got.updates == 0
