"""A real mosquitto for tests: TLS with client certificates, identity as username, an ACL.

    pki = TestPki.create(tmp_path / "pki")
    with Broker(pki, tmp_path / "broker") as broker:      # started, accepting
        client = broker.client(pki.client("dev-1"))       # connected paho client (MQTT v5)
        ...
        broker.stop(); broker.start()                     # outage on the same port

Each device (certificate CN = device id) may only use `faceterm/v1/<tenant>/<its id>/#`; the
`bureau` identity reads result/status/telemetry of every device and writes their cmd topics.
Pass `extra_acl` lines (appended at the end, e.g. a `user fleet` block) for other identities.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.pki import ClientFiles, TestPki

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """A mosquitto process on 127.0.0.1:<port>; a context manager that starts and stops it."""

    def __init__(
        self,
        pki: TestPki,
        workdir: Path,
        *,
        port: int | None = None,
        extra_acl: Sequence[str] = (),
        acl: Sequence[str] = DEFAULT_ACL,
    ) -> None:
        self.pki = pki
        self.workdir = workdir
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.acl_lines = [*acl, "", *extra_acl]
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
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # helpers -------------------------------------------------------------------------------
    def client(
        self, files: ClientFiles, client_id: str | None = None, timeout_s: float = 10.0
    ) -> mqtt.Client:
        """A connected MQTT v5 paho client (loop running) for an identity; caller disconnects."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or files.name,
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(
            ca_certs=str(files.ca), certfile=str(files.cert), keyfile=str(files.key),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        connected = threading.Event()
        client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        if not connected.wait(timeout_s):
            client.loop_stop()
            raise TimeoutError(f"{files.name} could not connect to the test broker")
        return client

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
            f"cafile {self.pki.ca_cert}",
            f"certfile {self.pki.server_cert}",
            f"keyfile {self.pki.server_key}",
            "require_certificate true",
            "use_identity_as_username true",
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
