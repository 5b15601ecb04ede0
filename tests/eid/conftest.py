"""Fixtures of the e-ID tests: virtual cards, an event recorder, and a real pcscd with vpcd.

The ``pcscd`` fixture starts a pcscd of the test run's own, as the user running the tests, and
never touches the machine's: its socket, its pid file and its vpcd ports are its own (see
:class:`Pcscd`). When that cannot be done the pcsc tests FAIL (in CI and locally alike); deselect
them with ``-m "not pcsc"`` on a machine without pcscd and vpcd.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from smartcard import scard

from devices.eid import belpic, national_number
from devices.eid.card_os import BelpicCardOS, CardImage
from devices.eid.pcsc import PcscUnavailable, list_readers
from devices.eid.reader import CardReader, ReaderEvent
from devices.eid.signature import address_signed_data
from devices.eid.virtual_card import (
    EC_SIGNATURE_FILE_SIZE,
    VirtualAddress,
    VirtualCard,
    build_image,
)
from devices.eid.vpcd import VpcdCard

VPCD_READER = "Virtual PCD 00 00"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
SOCKET_VARIABLE = "PCSCLITE_CSOCK_NAME"


def make_card(**changes: object) -> VirtualCard:
    """A valid card; ``changes`` override fields (birth_date also drives the national number)."""
    birth = str(changes.pop("birth_date", "1985-07-30"))
    sequence = int(str(changes.pop("sequence", 33)))
    number = national_number.make(
        dt.date.fromisoformat(birth if len(birth) > 4 else "1985-01-01"), sequence
    )
    base = VirtualCard(
        national_number=number,
        last_name="Dupont-Lefèvre",
        first_names="Zoë Anaïs",
        third_initial="M",
        birth_date=birth,
        sex="M" if sequence % 2 else "F",
        birth_place="Liège",
        issuing_municipality="Genk",
        address=VirtualAddress("Rue de l'Église 12 bte 3", "4000", "Liège"),
    )
    return base.with_changes(**changes)


Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def make_certificate(
    name: x509.Name | str,
    key: Key,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: Key | None = None,
    ca: bool = False,
    valid: tuple[dt.date, dt.date] = (dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
) -> x509.Certificate:
    """A certificate for ``key``, self-signed unless ``issuer`` and ``issuer_key`` are given."""
    if isinstance(name, str):
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
    signer = issuer_key or key
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.combine(valid[0], dt.time(), tzinfo=dt.UTC))
        .not_valid_after(dt.datetime.combine(valid[1], dt.time(23, 59), tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, algorithm or hashes.SHA256())
    )


def _card_signature(key: Key, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    signature = key.sign(data, ec.ECDSA(hashes.SHA384()))
    return signature + bytes(EC_SIGNATURE_FILE_SIZE - len(signature))


def forge_image(card: VirtualCard, key: Key, certificate: x509.Certificate) -> CardImage:
    """The card signed consistently by ``key``, carrying ``certificate`` as its RRN certificate.

    What a forger with their own key writes: every signature matches, only the chain can tell.
    """
    image = build_image(card)
    files = dict(image.files)
    identity_signature = _card_signature(key, files[belpic.IDENTITY])
    files[belpic.IDENTITY_SIGNATURE] = identity_signature
    files[belpic.ADDRESS_SIGNATURE] = _card_signature(
        key, address_signed_data(files[belpic.ADDRESS], identity_signature)
    )
    files[belpic.CERT_RRN] = certificate.public_bytes(serialization.Encoding.DER)
    return CardImage(image.atr, files, image.has_applet, image.applet_version)


class Events:
    """Records a reader's events and waits for them."""

    def __init__(self, reader: CardReader) -> None:
        self.queue: queue.Queue[tuple[float, ReaderEvent]] = queue.Queue()
        self.seen: list[ReaderEvent] = []
        reader.subscribe(lambda event: self.queue.put((time.monotonic(), event)))

    def next(self, kind: type, timeout: float = 5.0) -> ReaderEvent:
        """The next event of ``kind`` (others are kept in ``seen``); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                _, event = self.queue.get(timeout=max(left, 0.01))
            except queue.Empty:
                pytest.fail(f"no {kind.__name__} within {timeout} s; saw {self.seen}")
            self.seen.append(event)
            if isinstance(event, kind):
                return event

    def next_timed(self, kind: type, timeout: float = 5.0) -> tuple[float, ReaderEvent]:
        """Like :meth:`next`, with the monotonic time the event was emitted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                moment, event = self.queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"no {kind.__name__} within {timeout} s; saw {self.seen}")
            self.seen.append(event)
            if isinstance(event, kind):
                return moment, event


class Pcscd:
    """A pcscd of the test run's own, with the vpcd reader on ports of its own; can be killed
    and started again.

    pcsc-lite's clients find pcscd through ``$PCSCLITE_CSOCK_NAME``, but pcscd 1.9 itself always
    binds /run/pcscd/pcscd.comm and writes /run/pcscd/pcscd.pid, the machine's. So it runs in a
    mount namespace of its own (``unshare``; for a normal user in a user namespace too, where it
    is root of nothing but itself), in which a folder of ours is mounted on /run/pcscd: its
    socket and pid file land in that folder, the machine's pcscd and /run are left alone. The
    tests' processes reach it by ``$PCSCLITE_CSOCK_NAME``, set for the session. USB devices are
    hidden from it, so it never opens a real reader the machine's pcscd uses.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "pcscd.log"
        self.config = folder / "reader.conf.d"
        self.vpcd_port = _free_port_pair()
        """vpcd's port for "Virtual PCD 00 00" (the next one serves "00 01")."""
        self.process: subprocess.Popen[bytes] | None = None
        # Ours goes on /run/pcscd, which exists where pcscd is installed; else on all of /run.
        if Path("/run/pcscd").is_dir():
            self._mount = (folder / "run", Path("/run/pcscd"))
            self.socket = folder / "run" / "pcscd.comm"
        else:
            self._mount = (folder / "run", Path("/run"))
            self.socket = folder / "run" / "pcscd" / "pcscd.comm"
        self.socket.parent.mkdir(parents=True)
        self.config.mkdir()
        (self.config / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME /dev/null:{self.vpcd_port:#x}\n"
            f"LIBPATH {VPCD_DRIVER}\n"
            f"CHANNELID {self.vpcd_port:#x}\n",
            encoding="utf-8",
        )

    def start(self) -> None:
        """Start pcscd in the foreground, as our child, in its own mount namespace."""
        binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        unshare = ["unshare", "--mount"]
        if os.geteuid() != 0:
            unshare[1:1] = ["--user", "--map-root-user"]
        script = (
            'mount --bind "$1" "$2" && '
            # No USB device for it: a real reader belongs to the machine's pcscd.
            "{ [ ! -d /dev/bus/usb ] || mount -t tmpfs none /dev/bus/usb || true; } && "
            'exec "$3" --foreground --config "$4"'
        )
        source, target = self._mount
        arguments = [str(source), str(target), binary, str(self.config)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*unshare, "sh", "-c", script, "sh", *arguments],
                stdout=log,
                stderr=log,
            )

    def card(self, card: BelpicCardOS, **options: Any) -> VpcdCard:
        """A virtual card for this pcscd's vpcd reader (``options``: see VpcdCard)."""
        return VpcdCard(card, port=self.vpcd_port, **options)

    def wait_reader(self, timeout: float = 10.0) -> bool:
        """True once the vpcd reader is listed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                if VPCD_READER in list_readers():
                    return True
            except PcscUnavailable:
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """Stop our pcscd (SIGTERM, as systemd does)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        """Kill pcscd and start it again on the same socket and ports."""
        self.kill()
        self.start()


def _free_port_pair() -> int:
    """A TCP port that is free, and the next one too (vpcd serves two readers)."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            try:
                second.bind(("", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two free consecutive ports for vpcd")


def wait_until_empty(reader: str = VPCD_READER, timeout: float = 5.0) -> None:
    """Wait until pcscd sees no card in ``reader``: a removal reaches it asynchronously, and a
    test that starts too soon would find the previous test's card still there."""
    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result, states = scard.SCardGetStatusChange(
                context, 100, [(reader, scard.SCARD_STATE_UNAWARE)]
            )
            if result == scard.SCARD_S_SUCCESS and states[0][1] & scard.SCARD_STATE_EMPTY:
                return
            time.sleep(0.05)
    finally:
        scard.SCardReleaseContext(context)
    raise AssertionError(f"{reader} still holds a card after {timeout} s")


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """A pcscd with the vpcd reader, of this run's own (the machine's is never used)."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        pytest.fail(
            "pcscd is not installed: apt-get install -y pcscd vsmartcard-vpcd "
            "(or deselect these tests with -m 'not pcsc')"
        )
    if not Path(VPCD_DRIVER).exists():
        pytest.fail("vpcd is not installed: apt-get install -y vsmartcard-vpcd")
    # /tmp: a unix socket path must stay short, and a session's temporary folder can be long.
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-", dir="/tmp"))
    service = Pcscd(folder)
    before = os.environ.get(SOCKET_VARIABLE)
    # Before any PC/SC call of the session: libpcsclite reads it once per process.
    os.environ[SOCKET_VARIABLE] = str(service.socket)
    try:
        service.start()
        if not service.wait_reader():
            log = service.log.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the test's pcscd did not show the vpcd reader:\n{log[-2000:]}")
        yield service
    finally:
        service.kill()
        if before is None:
            os.environ.pop(SOCKET_VARIABLE, None)
        else:
            os.environ[SOCKET_VARIABLE] = before
        shutil.rmtree(folder, ignore_errors=True)
