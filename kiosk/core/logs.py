"""Structured logs without personal data: one JSON event per line, a correlation id per card tap.

Every record passes a redaction filter (:mod:`kiosk.core.redaction`) before it is written:
national register numbers and the names and birth dates the kiosk has seen are replaced in the
message, the arguments, the exception text and any
``extra={"fields": {...}}`` values. The filter sits on the handler, so records from every library
(SQLAlchemy, pyscard, Textual) are scrubbed too.

Where the lines go (``[logging] target``, or ``$KIOSK_LOG_TARGET``):

* ``stderr``: one line per event; under systemd, journald keeps stderr (``kiosk sync``, the daily
  jobs, every command run by hand).
* ``journal``: the full-screen kiosk owns the console: Textual draws on stdout/stderr, which are
  the tty. Its events go straight to journald over the native protocol (a datagram on
  ``/run/systemd/journal/socket``, stdlib ``socket`` only), with ``KIOSK_ID`` and
  ``CORRELATION_ID`` as journal fields: ``journalctl -u rehab-kiosk CORRELATION_ID=...``.
* ``file``: appended to ``[logging] file`` (default ``logs/kiosk.log`` in the data directory),
  reopened when logrotate moves it. A file that cannot be opened is a ``ConfigError``; a line
  that cannot be written (a full disk) is lost, like a line the journal does not take.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import logging.handlers
import os
import secrets
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from kiosk.core.config import ConfigError, Settings
from kiosk.core.redaction import redact

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
# Libraries that log row contents or statements at DEBUG: kept at WARNING whatever the level.
QUIET_LOGGERS = ("sqlalchemy", "alembic", "asyncio", "PIL", "escpos", "usb")

_PRIORITIES = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}

_correlation: ContextVar[str | None] = ContextVar("kiosk_correlation_id", default=None)


# Letters only: a random hexadecimal id is now and then eleven digits in a row, which reads as
# (and is scrubbed like) a national number.
_CORRELATION_LETTERS = "abcdefghjkmnpqrstuvwxyz"


def new_correlation_id() -> str:
    """A fresh random correlation id of 12 letters (about 54 bits)."""
    return "".join(secrets.choice(_CORRELATION_LETTERS) for _ in range(12))


def correlation_id() -> str | None:
    """The id of the card tap being handled in this context, if any."""
    return _correlation.get()


@contextlib.contextmanager
def tap(correlation: str | None = None) -> Iterator[str]:
    """Handle one card tap: every log line inside carries the same new correlation id.

    The id lives in a ``contextvars.ContextVar``, so it follows asyncio tasks; a worker thread
    needs ``contextvars.copy_context().run(...)`` to carry it.
    """
    value = correlation or new_correlation_id()
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


class RedactingFilter(logging.Filter):
    """Scrubs the record in place before any handler formats it (message, args, exception)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace personal data in the record; never drops it."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info is not None:
            record.exc_text = redact(_exception_text(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {
                str(k): redact(v) if isinstance(v, str) else v for k, v in fields.items()
            }
        return True


def _exception_text(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None],
) -> str:
    if exc_info[0] is None:
        return ""
    return "".join(traceback.format_exception(exc_info[0], exc_info[1], exc_info[2])).rstrip()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, kiosk, correlation id, message."""

    def __init__(self, kiosk_id: str, site_id: str) -> None:
        super().__init__()
        self.kiosk_id, self.site_id = kiosk_id, site_id

    def format(self, record: logging.LogRecord) -> str:
        """The event as one line of JSON (newlines in texts are escaped by JSON)."""
        event: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "kiosk": self.kiosk_id,
            "site": self.site_id,
            "corr": getattr(record, "corr", None) or correlation_id(),
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            event["fields"] = fields
        if record.exc_text:
            event["exc"] = record.exc_text
        if record.stack_info:
            event["stack"] = record.stack_info
        return json.dumps(event, ensure_ascii=False, default=str)


class JournalHandler(logging.Handler):
    """Sends each event to journald over its native datagram protocol (no libsystemd needed)."""

    def __init__(self, kiosk_id: str, path: Path = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.kiosk_id, self.path = kiosk_id, path
        self.dropped = 0
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        """Send one datagram; a journal that is down costs the line, never the kiosk."""
        try:
            fields = {
                "MESSAGE": self.format(record),
                "PRIORITY": str(_PRIORITIES.get(record.levelname, 6)),
                "SYSLOG_IDENTIFIER": "rehab-kiosk",
                "KIOSK_ID": self.kiosk_id,
                "LOGGER": record.name,
            }
            corr = getattr(record, "corr", None) or correlation_id()
            if corr:
                fields["CORRELATION_ID"] = corr
            self._socket.sendto(journal_datagram(fields), str(self.path))
        except OSError:
            # The screen is the tty: writing the error to stderr would draw over the kiosk.
            self.dropped += 1

    def close(self) -> None:
        """Close the socket."""
        self._socket.close()
        super().close()


def journal_datagram(fields: dict[str, str]) -> bytes:
    """Encode fields in journald's native format (length-prefixed when a value has a newline)."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


def _handler(settings: Settings, target: str, stream: TextIO | None) -> logging.Handler:
    if target == "journal":
        return JournalHandler(
            settings.kiosk_id, Path(os.environ.get("KIOSK_JOURNAL_SOCKET") or JOURNAL_SOCKET)
        )
    if target == "file":
        path = (
            Path(settings.log_file)
            if settings.log_file
            else settings.data_dir / "logs" / "kiosk.log"
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return FileHandler(path)
        except OSError as exc:
            # Before the command does anything: a log it cannot keep is bad configuration.
            raise ConfigError(
                f"[logging] file: cannot write {path} ({exc.strerror or type(exc).__name__})"
            ) from None
    return logging.StreamHandler(stream or sys.stderr)


class FileHandler(logging.handlers.WatchedFileHandler):
    """Appends to the log file, reopened when logrotate moves it.

    A line that cannot be written (the disk full) is counted in ``dropped`` and lost, like the
    journal's: printing the failure would put a traceback on stderr, on the kiosk's own screen.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.dropped = 0

    def handleError(self, record: logging.LogRecord) -> None:
        """Count the lost line instead of printing a traceback."""
        self.dropped += 1


def setup_early_logging() -> None:
    """Until :func:`setup_logging` runs, send records (and uncaught exceptions) redacted to stderr.

    Without a handler, Python's last-resort one would print a record's exception unredacted; a
    command fails before its configuration is read often enough (bad input, a broken file).
    Does nothing when logging is already set up.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter("", ""))
    root.addHandler(handler)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught


def setup_logging(
    settings: Settings,
    *,
    level: str | None = None,
    target: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Route every log record of the process through redaction to the configured target.

    ``level`` and ``target`` default to the settings (``[logging]``, ``$KIOSK_LOG_LEVEL``,
    ``$KIOSK_LOG_TARGET``). Uncaught exceptions, in the main thread and in threads, are logged
    redacted instead of printed raw. Returns the installed handler.
    """
    handler = _handler(settings, target or settings.log_target, stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter(settings.kiosk_id, settings.site_id))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught
    return handler


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("kiosk").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    logging.getLogger("kiosk").critical(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
