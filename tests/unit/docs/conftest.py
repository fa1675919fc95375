"""Fixtures of the docs/schemas tests (jsonschema is a dev dependency)."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import OKPKey
from schema_support import Schemas, load_all, make_registry

from device.fleet.keyring import Keyring, operator_entry


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return load_all()


@pytest.fixture(scope="module")
def registry(schemas: Schemas) -> Any:
    return make_registry(schemas)


@pytest.fixture(scope="module")
def operator_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


@pytest.fixture(scope="module")
def keyring(operator_key: OKPKey) -> Keyring:
    return Keyring.from_data({"operators": [
        operator_entry("ops-admin-2026", operator_key.as_dict(private=False), ["admin"])]})
