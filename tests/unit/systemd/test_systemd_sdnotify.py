"""device.sdnotify: the notification datagrams, with and without systemd-python."""

from __future__ import annotations

import os

import pytest
from systemd_testing import NotifySocket

from device.sdnotify import Notifier, clean_status, socket_address

MESSAGES = ["READY=1", "STATUS=ready: idle", "WATCHDOG=1", "STOPPING=1", "EXTEND_TIMEOUT_USEC=5"]


def send_all(notifier: Notifier) -> None:
    notifier.ready()
    notifier.status("ready: idle")
    notifier.watchdog()
    notifier.stopping()
    notifier.notify("EXTEND_TIMEOUT_USEC=5")


def test_without_notify_socket_every_call_is_a_quiet_no_op() -> None:
    notifier = Notifier(environ={})
    send_all(notifier)
    assert not notifier.enabled
    assert notifier.status_counters() == {"enabled": False, "sent": 0, "failed": 0}


def test_fallback_client_sends_each_state_as_one_datagram(notify_socket: NotifySocket) -> None:
    notifier = Notifier(environ={"NOTIFY_SOCKET": notify_socket.address}, backend="socket")
    send_all(notifier)
    assert [notify_socket.receive() for _ in MESSAGES] == [m.encode() for m in MESSAGES]
    assert notifier.sent == len(MESSAGES)


def test_abstract_namespace_address(abstract_notify_socket: NotifySocket) -> None:
    notifier = Notifier(environ={"NOTIFY_SOCKET": abstract_notify_socket.address})
    notifier.ready()
    assert abstract_notify_socket.receive() == b"READY=1"


def test_unreachable_socket_is_counted_not_raised(tmp_path: os.PathLike[str]) -> None:
    notifier = Notifier(environ={"NOTIFY_SOCKET": f"{tmp_path}/gone"})
    notifier.ready()
    assert notifier.status_counters() == {"enabled": True, "sent": 0, "failed": 1}


@pytest.mark.parametrize("backend", ["systemd", "sdnotify"])
def test_other_clients_send_identical_datagrams(
    backend: str, notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.address)
    send_all(Notifier(backend="socket"))
    ours = [notify_socket.receive() for _ in MESSAGES]
    if backend == "systemd":
        pytest.importorskip("systemd.daemon", reason="systemd-python is not installed")
        send_all(Notifier(backend="systemd"))
    else:
        sdnotify = pytest.importorskip("sdnotify")
        reference = sdnotify.SystemdNotifier()
        for message in MESSAGES:
            reference.notify(message)
    theirs = [notify_socket.receive() for _ in MESSAGES]
    assert ours == theirs == [m.encode() for m in MESSAGES]


def test_auto_backend_prefers_systemd_python_under_os_environ(
    notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = pytest.importorskip("systemd.daemon", reason="systemd-python is not installed")
    calls: list[str] = []

    def notify(state: str) -> bool:
        calls.append(state)
        return True

    monkeypatch.setattr(daemon, "notify", notify)
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.address)
    Notifier().ready()
    assert calls == ["READY=1"]
    assert notify_socket.drain() == []


def test_status_is_one_line_without_id_numbers() -> None:
    text = "matching 110101199003074514\nREADY=1\r\n" + "x" * 500
    cleaned = clean_status(text)
    assert "\n" not in cleaned and "\r" not in cleaned
    assert "110101199003074514" not in cleaned and "1101**********4514" in cleaned
    assert len(cleaned) == 200


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "20000000"}, 20.0),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": str(os.getpid())}, 0.5),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], expected: float | None) -> None:
    assert Notifier(environ=environ).watchdog_interval_s() == expected


@pytest.mark.parametrize(
    ("value", "address"),
    [("/run/systemd/notify", "/run/systemd/notify"), ("@sd", "\0sd"), ("", None), ("@", None),
     ("relative", None)],
)
def test_socket_address(value: str, address: str | None) -> None:
    assert socket_address(value) == address
