"""Telling systemd how the kiosk is doing (sd_notify), with the standard library only.

Under a ``Type=notify`` unit systemd sets ``$NOTIFY_SOCKET``; the app says ``READY=1`` once its
screen is up, ``WATCHDOG=1`` at least every half ``WatchdogSec`` while it is healthy (a hung
event loop stops the pings and systemd restarts the unit), and ``STOPPING=1`` on the way out.
Outside systemd every call is a no-op, so the same code runs in a developer's terminal.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET`` (or ``address``); silent without one."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if self.address.startswith("@"):
            # An abstract socket: the name starts with a NUL byte instead of "@".
            self.address = "\0" + self.address[1:]

    @property
    def enabled(self) -> bool:
        """Whether a service manager is listening."""
        return bool(self.address)

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram; False when not sent (never raises)."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(assignments).encode("utf-8"), self.address)
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """The kiosk is up and showing its home screen."""
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def ping(self) -> bool:
        """The kiosk is still healthy: reset systemd's watchdog timer."""
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status``."""
        return self.notify(f"STATUS={text}")

    def stopping(self) -> bool:
        """The kiosk is shutting down on purpose."""
        return self.notify("STOPPING=1")

    def interval_seconds(self) -> float | None:
        """How often to ping: half of ``$WATCHDOG_USEC``, or None when no watchdog is set.

        ``$WATCHDOG_PID``, when set, must be this process (a child started by the kiosk must
        not feed the parent's watchdog).
        """
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
            return None
        return int(usec) / 2_000_000
