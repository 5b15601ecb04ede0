"""Card insertion -> Identity through the real path (pyscard -> pcscd -> vpcd -> emulator).

Measures, side by side in the same run: the kiosk's check-in read (identity file, its signature,
the RRN certificate) and a full read of the card (every file, photo and all certificates), as
wall time from insertion to result (median, p95) and as APDU count. On a real card each APDU
costs tens of milliseconds, so the APDU count is the figure that matters: ours must stay below a
third of the full read. Needs pcscd running with vsmartcard-vpcd (``pcscd -f &``).

Usage: .venv/bin/python bench/bench_eid.py [ROUNDS]
"""

from __future__ import annotations

import datetime as dt
import queue
import statistics
import sys
import threading
import time

from smartcard import scard

from devices.eid import belpic, national_number
from devices.eid.card_os import BelpicCardOS
from devices.eid.pcsc import PcscReader, PcscTransport, list_readers
from devices.eid.reader import IdentityRead, ReaderEvent
from devices.eid.virtual_card import VirtualAddress, VirtualCard, build_image
from devices.eid.vpcd import VpcdCard

READER = "Virtual PCD 00 00"


def _card() -> VirtualCard:
    return VirtualCard(
        national_number=national_number.make(dt.date(1985, 7, 30), 33),
        last_name="Dupont",
        first_names="Zoë",
        birth_date="1985-07-30",
        sex="M",
        address=VirtualAddress("Kerkstraat 1", "3600", "Genk"),
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def check_in_reads(rounds: int) -> tuple[list[float], int]:
    """Insertion -> IdentityRead through PcscReader: the time from the CardInserted event."""
    reader = PcscReader(READER)
    events: queue.Queue[tuple[float, ReaderEvent]] = queue.Queue()
    reader.subscribe(lambda event: events.put((time.perf_counter(), event)))
    reader.start()
    image = build_image(_card())
    times: list[float] = []
    apdus = 0
    try:
        for _ in range(rounds):
            card = VpcdCard(BelpicCardOS(image))
            card.insert()
            inserted = None
            while True:
                moment, event = events.get(timeout=10)
                if type(event).__name__ == "CardInserted":
                    inserted = moment
                if isinstance(event, IdentityRead):
                    assert inserted is not None
                    times.append(moment - inserted)
                    apdus = event.apdu_count
                    break
            card.remove()
            while type(events.get(timeout=10)[1]).__name__ != "CardRemoved":
                pass
    finally:
        reader.stop()
    return times, apdus


def full_reads(rounds: int) -> tuple[list[float], int]:
    """Connect and read every file of the card, like an identity viewer."""
    image = build_image(_card())
    card = VpcdCard(BelpicCardOS(image))
    card.insert()
    hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    times: list[float] = []
    apdus = 0
    try:
        deadline = time.monotonic() + 10
        while True:
            hr, handle, protocol = scard.SCardConnect(
                context, READER, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0
            )
            if hr == scard.SCARD_S_SUCCESS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        transport = PcscTransport(handle, protocol, threading.Event())
        for _ in range(rounds):
            started = time.perf_counter()
            files, apdus = belpic.read_everything(transport)
            times.append(time.perf_counter() - started)
            assert belpic.PHOTO in files
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    finally:
        scard.SCardReleaseContext(context)
        card.remove()
    return times, apdus


def main() -> int:
    """Run both measurements and print the comparison."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    if READER not in list_readers():
        print(f"{READER} not found: start pcscd with vsmartcard-vpcd", file=sys.stderr)
        return 1
    ours, our_apdus = check_in_reads(rounds)
    full, full_apdus = full_reads(rounds)
    print(f"rounds: {rounds} (virtual card over pcscd/vpcd, applet 1.8, EC signatures)")
    print(
        f"check-in read, insertion -> Identity (incl. signature check): "
        f"median {statistics.median(ours) * 1000:.1f} ms, p95 {_p95(ours) * 1000:.1f} ms, "
        f"{our_apdus} APDUs"
    )
    print(
        f"full read (photo + all certificates, no parsing): "
        f"median {statistics.median(full) * 1000:.1f} ms, p95 {_p95(full) * 1000:.1f} ms, "
        f"{full_apdus} APDUs"
    )
    ratio = our_apdus / full_apdus
    verdict = "OK" if our_apdus * 3 < full_apdus else "TOO MANY"
    print(f"APDU ratio: {ratio:.2f} (target < 0.33): {verdict}")
    print(f"at 30 ms per APDU on a real card: {our_apdus * 30} ms versus {full_apdus * 30} ms")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
