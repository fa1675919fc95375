"""A throwaway PostgreSQL cluster for tests (Debian's postgresql: initdb + pg_ctl).

    with PostgresCluster() as cluster:
        dsn = cluster.create_database("t1")     # postgresql://faceterm@127.0.0.1:PORT/t1

The data directory (and the unix socket) live in a fresh temp directory; the server listens on a
free loopback port only. As root, initdb and pg_ctl run as the `postgres` user (initdb refuses
root). `postgres_dsn` is a pytest fixture giving each test its own database in one cluster per
session; it skips only where the binaries are absent, and never when CI=true.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

from device.demo.broker import free_port

USER = "faceterm"


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    def __init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faceterm-pg-"))
        self.data = self.root / "data"
        self._count = 0

    def _as_owner(self, *argv: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)

    def start(self) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        subprocess.run(self._as_owner(str(self.bindir / "initdb"), "-D", str(self.data),
                                      "-A", "trust", "-U", USER, "--no-sync"),
                       check=True, capture_output=True, timeout=60)
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=50")
        subprocess.run(self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o",
                                      options, "-l", str(self.root / "log"), "-w", "-t", "30",
                                      "start"), check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        subprocess.run(self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                                      "immediate", "-w", "-t", "30", "stop"),
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        import psycopg

        self._count += 1
        name = name or f"t{self._count}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    if pg_bindir() is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true but PostgreSQL is not installed (scripts/install-deps.sh)")
        pytest.skip("PostgreSQL binaries absent (apt-get install postgresql)")
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_dsn(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.create_database()
