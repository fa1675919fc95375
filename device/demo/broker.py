"""A mosquitto process for the demo and the tests: TLS with client certificates, the
certificate's CN as username, an ACL file giving each device only its own topics.

    with Mosquitto(ca, server_cert, server_key, workdir) as broker:   # started, accepting
        ...
        broker.stop(); broker.start()                                 # outage, same port
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PREFIX = "faceterm/v1"
DEFAULT_ACL = (
    f"pattern readwrite {PREFIX}/+/%u/#",
    "",
    "user bureau",
    f"topic read {PREFIX}/+/+/result",
    f"topic read {PREFIX}/+/+/status",
    f"topic read {PREFIX}/+/+/telemetry",
    f"topic write {PREFIX}/+/+/cmd/#",
)
FLEET_ACL = (
    "user fleet",
    f"topic read {PREFIX}/+/+/status",
    f"topic read {PREFIX}/+/+/telemetry",
    f"topic read {PREFIX}/+/+/reply/#",
    f"topic write {PREFIX}/+/+/cmd/#",
)


def tenant_acl(devices: Mapping[str, str]) -> tuple[str, ...]:
    """ACL lines giving each device (certificate CN) only its own topics under its own tenant
    ({device id: tenant}, from the bureau's registry), plus the bureau's lines. Use instead of
    DEFAULT_ACL's pattern, which lets a device publish under any tenant's prefix."""
    lines: list[str] = []
    for device_id, tenant in sorted(devices.items()):
        if not all(part and "/" not in part and "+" not in part and "#" not in part
                   and not part.isspace() and " " not in part for part in (device_id, tenant)):
            raise ValueError(f"device {device_id!r} / tenant {tenant!r} cannot name a topic level")
        lines += [f"user {device_id}", f"topic readwrite {PREFIX}/{tenant}/{device_id}/#", ""]
    return (*lines, *DEFAULT_ACL[2:])


BRIDGE_OUT = ("result", "status", "telemetry", "reply/#")
BRIDGE_IN = ("cmd/#",)


def bridge_acl(name: str, prefix: str = PREFIX) -> tuple[str, ...]:
    """The central broker's ACL for a district bridge (its certificate CN is `name`)."""
    return (f"user {name}",
            *(f"topic write {prefix}/+/+/{kind}" for kind in BRIDGE_OUT),
            *(f"topic read {prefix}/+/+/{kind}" for kind in BRIDGE_IN))


@dataclass(frozen=True, slots=True)
class Bridge:
    """A district broker's bridge to the central one: mosquitto's own, TLS with a client
    certificate, a persistent session (cleansession false) and QoS 1 both ways, so results
    queue in the district broker while the link is down."""

    name: str
    host: str
    port: int
    ca_cert: Path
    cert: Path
    key: Path
    prefix: str = PREFIX

    def lines(self) -> list[str]:
        return [
            f"connection {self.name}", f"address {self.host}:{self.port}",
            f"bridge_cafile {self.ca_cert}", f"bridge_certfile {self.cert}",
            f"bridge_keyfile {self.key}", "bridge_insecure false",
            "bridge_protocol_version mqttv311", "try_private true", "cleansession false",
            f"remote_clientid {self.name}", f"local_clientid {self.name}-local",
            "keepalive_interval 5", "restart_timeout 1 5", "notifications false",
            *(f"topic {self.prefix}/+/+/{kind} out 1" for kind in BRIDGE_OUT),
            *(f"topic {self.prefix}/+/+/{kind} in 1" for kind in BRIDGE_IN),
        ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mosquitto:
    """A mosquitto process on 127.0.0.1:<port>; a context manager that starts and stops it."""

    def __init__(
        self,
        ca_cert: Path,
        server_cert: Path,
        server_key: Path,
        workdir: Path,
        *,
        port: int | None = None,
        extra_acl: Sequence[str] = (),
        acl: Sequence[str] = DEFAULT_ACL,
        crlfile: Path | None = None,
        bridge: Bridge | None = None,
    ) -> None:
        self.ca_cert, self.server_cert, self.server_key = ca_cert, server_cert, server_key
        self.crlfile = crlfile
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.acl_lines = [*acl, "", *extra_acl]
        self.bridge = bridge
        self.log_path = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> None:
        if self._process is not None:
            return
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self._write_config()
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self._wait_accepting(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL): nothing is saved."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("mosquitto is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        acl = self.workdir / "acl"
        acl.write_text("\n".join(self.acl_lines) + "\n", encoding="utf-8")
        conf = self.workdir / "mosquitto.conf"
        lines = [
            *([f"user {_current_user()}"] if os.geteuid() == 0 else []),
            "per_listener_settings false",
            "allow_anonymous false",
            f"acl_file {acl}",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 1000000",
            "max_inflight_messages 100",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            f"listener {self.port} {self.host}",
            f"cafile {self.ca_cert}",
            f"certfile {self.server_cert}",
            f"keyfile {self.server_key}",
            "require_certificate true",
            "use_identity_as_username true",
            # a revoked device certificate is refused at the TLS handshake (PEM CRL of the CA)
            *([f"crlfile {self.crlfile}"] if self.crlfile is not None else []),
            *(self.bridge.lines() if self.bridge else []),
        ]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def _wait_accepting(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited; see {self.log_path}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"mosquitto did not accept on port {self.port} in {timeout_s} s")


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
