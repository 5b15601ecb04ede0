"""A small TCP proxy between a kiosk and PostgreSQL that injects network faults on demand."""

from __future__ import annotations

import contextlib
import socket
import threading


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``mode`` decides what happens to the traffic.

    Modes: ``pass``; ``stall`` (accept and forward nothing, the peer looks alive); ``drop``
    (close both sides after ``drop_after`` more bytes from the kiosk, i.e. mid-batch);
    ``reset_after_commit`` (the server's COMMIT reply is swallowed and the connection cut, so
    the centre committed but the kiosk never hears it); ``down`` (refuse new connections).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "pass"
        self.drop_after = 0
        self.faults = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, user: str, database: str) -> str:
        """A SQLAlchemy URL that goes through the proxy."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def set(self, mode: str, drop_after: int = 0) -> None:
        """Change the fault for the traffic from now on."""
        with self._lock:
            self.mode, self.drop_after = mode, drop_after

    def cut_all(self) -> None:
        """Close every proxied connection."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting and cut everything."""
        self._closed = True
        self._listener.close()
        self.cut_all()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _fault(self, a: socket.socket, b: socket.socket) -> None:
        self.faults += 1
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while self.mode == "stall" and not self._closed:
                    threading.Event().wait(0.05)
                with self._lock:
                    mode = self.mode
                    if mode == "drop" and upstream:
                        self.drop_after -= len(data)
                        fire = self.drop_after <= 0
                    else:
                        fire = False
                if fire:
                    self.set("pass")
                    self._fault(src, dst)
                    return
                if mode == "reset_after_commit" and not upstream and b"COMMIT\x00" in data:
                    self.set("pass")
                    self._fault(src, dst)
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
