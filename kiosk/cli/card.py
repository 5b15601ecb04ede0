"""``kiosk card``: the e-ID reader from the command line (readers, read, watch, emulate)."""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from devices.eid import national_number
from devices.eid.card_os import BelpicCardOS, bank_card
from devices.eid.identity import Identity
from devices.eid.pcsc import PcscReader, PcscUnavailable, list_readers
from devices.eid.reader import (
    CardInserted,
    CardReader,
    CardReadFailed,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
    ReaderEvent,
)
from devices.eid.rrn_test_key import TEST_ROOTS
from devices.eid.simulated import SimulatedReader
from devices.eid.trust import TrustedRoots, TrustRootsError
from devices.eid.virtual_card import VirtualCardError, load_image
from devices.eid.vpcd import VPCD_PORT, VpcdCard
from kiosk.cli.common import CommandError, UsageError, print_json, settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kiosk card ...``."""
    card = subparsers.add_parser("card", help="the e-ID card reader")
    sub = card.add_subparsers(dest="card_command", required=True)

    readers = sub.add_parser("readers", help="list the card readers pcscd sees")
    readers.set_defaults(handler=cmd_readers)

    read = sub.add_parser("read", help="wait for an e-ID and print its identity and address")
    read.add_argument("--reader", default="", help="only readers whose name contains NAME")
    read.add_argument("--timeout", type=_seconds, default=10.0, help="seconds to wait (10)")
    read.add_argument("--json", action="store_true", help="print one JSON object")
    read.add_argument(
        "--virtual", type=Path, metavar="CARD_FILE", help="read a virtual card file instead"
    )
    _roots_option(read)
    read.set_defaults(handler=cmd_read)

    watch = sub.add_parser("watch", help="print reader and card events as they happen")
    watch.add_argument("--reader", default="", help="only readers whose name contains NAME")
    watch.add_argument(
        "--duration", type=_seconds, default=0.0, help="stop after SECONDS (default: Ctrl-C)"
    )
    _roots_option(watch)
    watch.set_defaults(handler=cmd_watch)

    emulate = sub.add_parser("emulate", help="put a virtual card into the virtual reader (vpcd)")
    emulate.add_argument("file", type=Path, nargs="?", help="virtual card file (.json or .eid)")
    emulate.add_argument("--bank-card", action="store_true", help="play a bank card instead")
    emulate.add_argument("--port", type=_port, default=VPCD_PORT, help=f"vpcd port ({VPCD_PORT})")
    emulate.add_argument("--host", default="127.0.0.1", help="vpcd host (127.0.0.1)")
    emulate.set_defaults(handler=cmd_emulate)


def _roots_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--roots",
        type=Path,
        metavar="PEM",
        help="trust these Belgium Root CA certificates (default: [devices] trusted_roots)",
    )


def _load_roots(path: Path) -> TrustedRoots:
    try:
        return TrustedRoots.load(path)
    except TrustRootsError as exc:
        raise UsageError(f"trusted roots: {exc}") from None


def _pcsc_reader(args: argparse.Namespace, *, with_address: bool) -> PcscReader:
    """A PC/SC reader checking cards against ``--roots``, else ``[devices] trusted_roots``."""
    if args.roots is not None:
        roots: TrustedRoots | None = _load_roots(args.roots)
    else:
        roots = settings(args).load_trusted_roots()
    return PcscReader(args.reader, with_address=with_address, trusted_roots=roots)


MAX_SECONDS = 31 * 24 * 3600
"""The longest wait a command takes (31 days): inf, nan or 1e300 overflow the waits below."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= MAX_SECONDS:  # False for nan too
        raise argparse.ArgumentTypeError(f"seconds must be from 0 to {MAX_SECONDS} (31 days)")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is from 1 to 65535")
    return value


def cmd_readers(args: argparse.Namespace) -> int:
    """Print the reader names, one a line."""
    try:
        names = list_readers()
    except PcscUnavailable as exc:
        raise CommandError(exc.reason) from None
    if not names:
        print("no card reader found", file=sys.stderr)
        return 1
    for name in names:
        print(name)
    return 0


def identity_json(identity: Identity) -> dict[str, Any]:
    """The identity as the ``--json`` object of ``kiosk card read`` (dates ISO, absent = "")."""
    address = identity.address
    return {
        "national_number": identity.national_number,
        "card_number": identity.card_number,
        "chip_number": identity.chip_number.hex().upper(),
        "valid_from": identity.valid_from.isoformat(),
        "valid_until": identity.valid_until.isoformat(),
        "issuing_municipality": identity.issuing_municipality,
        "last_name": identity.last_name,
        "first_names": identity.first_names,
        "third_initial": identity.third_initial,
        "nationality": identity.nationality,
        "birth_place": identity.birth_place,
        "birth_date": identity.birth_date.isoformat(),
        "sex": identity.sex,
        "noble_condition": identity.noble_condition,
        "document_type": identity.document_type,
        "special_status": identity.special_status,
        "address": {
            "street": address.street if address else "",
            "postal_code": address.postal_code if address else "",
            "municipality": address.municipality if address else "",
        },
        "signature_valid": identity.signature_valid,
        "chain_trusted": identity.chain_trusted,
    }


def _wait_for_card(reader: CardReader, timeout: float) -> Identity:
    events: queue.Queue[ReaderEvent] = queue.Queue()
    reader.subscribe(events.put)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"no card was read within {timeout:g} seconds")
            try:
                event = events.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(event, IdentityRead):
                return event.identity
            if isinstance(event, CardReadFailed):
                raise CommandError(f"the card could not be read: {event.reason}")
    finally:
        reader.stop()


def cmd_read(args: argparse.Namespace) -> int:
    """Wait for one card; print its identity (and address).

    A virtual card is checked against ``--roots``, else the TEST roots that issue virtual cards;
    a PC/SC read against ``--roots``, else ``[devices] trusted_roots``, else not at all (then
    ``chain_trusted`` is None).
    """
    reader: CardReader
    if args.virtual is not None:
        try:
            image = load_image(args.virtual)
        except VirtualCardError as exc:
            raise UsageError(str(exc)) from None
        roots = TEST_ROOTS if args.roots is None else _load_roots(args.roots)
        simulated = SimulatedReader(with_address=True, trusted_roots=roots)
        simulated.insert(image)
        reader = simulated
    else:
        try:
            list_readers()
        except PcscUnavailable as exc:
            raise CommandError(exc.reason) from None
        reader = _pcsc_reader(args, with_address=True)
    identity = _wait_for_card(reader, args.timeout)
    if args.json:
        print_json(identity_json(identity))
        return 0
    data = identity_json(identity)
    data["national_number"] = national_number.masked(identity.national_number)
    address = data.pop("address")
    for key, value in data.items():
        print(f"{key:21} {value}")
    for key, value in address.items():
        print(f"{'address.' + key:21} {value}")
    return 0


def describe(event: ReaderEvent) -> str:
    """One line per event, without personal data beyond the masked national number."""
    if isinstance(event, ReaderAttached):
        return f"reader attached: {event.reader}"
    if isinstance(event, ReaderDetached):
        return f"reader detached: {event.reader} ({event.reason})"
    if isinstance(event, CardInserted):
        return f"card inserted: {event.reader}, reading..."
    if isinstance(event, IdentityRead):
        identity = event.identity
        return (
            f"identity read: {event.reader}: national number {identity.masked_national_number}, "
            f"document type {identity.document_type}, signature valid {identity.signature_valid}, "
            f"chain trusted {identity.chain_trusted}, {event.apdu_count} APDUs"
        )
    if isinstance(event, CardReadFailed):
        return f"read failed: {event.reader}: {event.reason}"
    return f"card removed: {event.reader}"


def _until_signalled(duration: float) -> None:
    """Block until Ctrl-C, SIGTERM or ``duration`` seconds (0: no limit)."""
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait(duration or None)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_watch(args: argparse.Namespace) -> int:
    """Print events until interrupted."""
    reader = _pcsc_reader(args, with_address=False)
    reader.subscribe(lambda event: print(describe(event), flush=True))
    reader.start()
    try:
        _until_signalled(args.duration)
    finally:
        reader.stop()
    return 0


def cmd_emulate(args: argparse.Namespace) -> int:
    """Serve a virtual card to vpcd until Ctrl-C or SIGTERM."""
    if args.bank_card:
        image = bank_card()
    elif args.file is None:
        raise UsageError("give a virtual card file, or --bank-card")
    else:
        try:
            image = load_image(args.file)
        except VirtualCardError as exc:
            raise UsageError(str(exc)) from None
    card = VpcdCard(BelpicCardOS(image), host=args.host, port=args.port)
    card.insert()
    if card.wait_connected(2):
        print(f"virtual card inserted (vpcd at {args.host}:{args.port}); Ctrl-C to take it out")
    else:
        print(
            f"waiting for vpcd at {args.host}:{args.port} (is pcscd running?); Ctrl-C to stop",
            file=sys.stderr,
        )
    sys.stdout.flush()
    try:
        _until_signalled(0)
    finally:
        card.remove()
    return 0
