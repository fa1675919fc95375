"""A throwaway PostgreSQL cluster for tests: Debian's postgresql (initdb + pg_ctl), listening on
a free loopback port with its unix socket in its own temporary directory.

    with Postgres() as pg:            # or the `postgres_dsn` fixture in tests/conftest.py
        ResultStore(dsn=pg.dsn)

initdb refuses to run as root, so as root the cluster runs as the Debian `postgres` user in a
directory that user owns. `available()` says why a cluster cannot be made here (no binaries);
under CI (env CI=true) the tests fail instead of skipping, since CI installs postgresql.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from device.demo.broker import free_port

STOP_TIMEOUT_S = 30


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    if bindir() is None:
        return "PostgreSQL server binaries are not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run initdb as"
    return None


class Postgres:
    def __init__(self, database: str = "faceterm") -> None:
        self.database = database
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="faceterm-pg-"))
        self.data = self.dir / "data"
        self._bin = bindir()

    @property
    def dsn(self) -> str:
        return (f"postgresql://faceterm@127.0.0.1:{self.port}/{self.database}"
                "?connect_timeout=10")

    def _run(self, *args: str) -> None:
        assert self._bin is not None
        command = [str(self._bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "faceterm", "-E", "UTF8",
                  "--no-sync")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "-t", "60", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "faceterm",
                  self.database)
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t",
                      str(STOP_TIMEOUT_S), "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def fresh_database(self, name: str) -> str:
        """A new empty database in this cluster; its DSN."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "faceterm", name)
        return self.dsn.replace(f"/{self.database}?", f"/{name}?")

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
