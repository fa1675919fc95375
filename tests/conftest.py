"""Fixtures shared by every test folder: a throwaway PostgreSQL cluster (tests/support/postgres)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from device.bureau.store import ResultStore
from tests.support.postgres import Postgres, unavailable_reason

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI installs PostgreSQL, but: {reason}")
        pytest.skip(reason)
    with Postgres() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ResultStore]:
    """A factory of ResultStores over one fresh database, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "results.sqlite3"
        return lambda: ResultStore(path)
    cluster: Postgres = request.getfixturevalue("postgres")
    dsn = cluster.fresh_database(f"t{os.getpid()}_{next(_names)}")
    return lambda: ResultStore(dsn=dsn)
