"""The central database connection: every network call has its own deadline.

A peer that accepts the connection and then never answers would block psycopg forever, and a
server-side ``statement_timeout`` cannot help when the network itself is stalled. So each call
runs under :class:`Deadlines`: a timer that, when it fires, shuts the socket of every connection
the engine holds, which wakes the blocked call with an error. ``connect_timeout``, TCP keepalives
and ``tcp_user_timeout`` cover establishing the connection and a peer that vanished; the
server-side timeouts end a transaction the server was left holding.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from kiosk.db.engine import make_engine

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 20_000
CALL_DEADLINE_S = 30.0


class DeadlineExceeded(TimeoutError):
    """A call to the central database took longer than its deadline."""


def is_postgres(url: str) -> bool:
    """True for a PostgreSQL URL."""
    return make_url(url).get_backend_name() == "postgresql"


def postgres_connect_args(statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> dict[str, Any]:
    """libpq settings that bound every wait on the network and on the server."""
    return {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,
        "options": (
            f"-c statement_timeout={statement_timeout_ms} -c lock_timeout=10000 "
            "-c idle_in_transaction_session_timeout=60000"
        ),
    }


def central_engine(url: str, *, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    """An engine for the central database (``pool_pre_ping`` drops connections a restart killed)."""
    if is_postgres(url):
        return make_engine(
            url,
            connect_args=postgres_connect_args(statement_timeout_ms),
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=2,
        )
    return make_engine(url)


class Deadlines:
    """Per-call deadlines for one engine's connections."""

    def __init__(self, engine: Engine) -> None:
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        event.listen(engine, "connect", self._track)

    def _track(self, dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "pgconn"):
            self._connections.add(dbapi_connection)

    def _cut(self, fired: threading.Event) -> None:
        fired.set()
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                fd = connection.pgconn.socket
                # A duplicate descriptor: shutting it down wakes whoever waits on the original.
                sock = socket.socket(fileno=os.dup(fd))
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                finally:
                    sock.close()

    @contextlib.contextmanager
    def call(self, seconds: float = CALL_DEADLINE_S) -> Iterator[None]:
        """Run the body with a deadline; raises :class:`DeadlineExceeded` when it fires."""
        fired = threading.Event()
        timer = threading.Timer(seconds, self._cut, args=(fired,))
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception as exc:
            if fired.is_set():
                raise DeadlineExceeded(f"no answer within {seconds:g} s") from exc
            raise
        finally:
            timer.cancel()
        if fired.is_set():
            raise DeadlineExceeded(f"no answer within {seconds:g} s")
