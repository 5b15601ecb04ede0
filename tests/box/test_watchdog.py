"""sd_notify over a real datagram socket, and silence outside systemd."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from kiosk.core.watchdog import Notifier


def test_ready_ping_and_stopping_reach_the_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        notifier = Notifier()
        assert notifier.enabled
        assert notifier.ready("home screen")
        assert server.recv(4096) == b"READY=1\nSTATUS=home screen"
        assert notifier.ping()
        assert server.recv(4096) == b"WATCHDOG=1"
        assert notifier.stopping()
        assert server.recv(4096) == b"STOPPING=1"


def test_an_abstract_notify_socket_is_understood() -> None:
    name = f"rehab-kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        assert Notifier("@" + name).ping()
        assert server.recv(4096) == b"WATCHDOG=1"


def test_without_systemd_every_call_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.ping()


def test_a_vanished_manager_never_raises(tmp_path: Path) -> None:
    assert not Notifier(str(tmp_path / "gone")).ping()


def test_the_ping_interval_is_half_the_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert Notifier("").interval_seconds() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert Notifier("").interval_seconds() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert Notifier("").interval_seconds() is None
