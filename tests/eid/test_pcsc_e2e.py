"""The real path: pyscard -> pcscd -> vpcd -> the BELPIC emulator, with several cards and faults."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from smartcard import scard

from devices.eid import belpic
from devices.eid.card_os import ATR_T1, BelpicCardOS, CardImage, bank_card
from devices.eid.errors import UntrustedCardError
from devices.eid.identity import SOURCE_CHIP, Identity
from devices.eid.pcsc import REASON_BUSY, REASON_SERVICE, PcscReader
from devices.eid.reader import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
)
from devices.eid.rrn_test_key import TEST_ROOTS, root_certificate
from devices.eid.virtual_card import VirtualCard, build_image
from tests.eid.conftest import (
    VPCD_READER,
    Events,
    Pcscd,
    forge_image,
    make_card,
    make_certificate,
    wait_until_empty,
)

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reader(pcscd: Pcscd) -> Iterator[tuple[PcscReader, Events]]:
    """A started PC/SC reader on the vpcd slot trusting the TEST roots, with its event recorder."""
    wait_until_empty()
    card_reader = PcscReader(VPCD_READER, with_address=True, trusted_roots=TEST_ROOTS)
    events = Events(card_reader)
    card_reader.start()
    events.next(ReaderAttached)
    yield card_reader, events
    started = time.monotonic()
    card_reader.stop()
    assert time.monotonic() - started < 2.5


def _read(pcscd: Pcscd, events: Events, image: CardImage, **options: object) -> Identity:
    card = pcscd.card(BelpicCardOS(image), **options)
    card.insert()
    try:
        events.next(CardInserted)
        event = events.next(IdentityRead)
        assert isinstance(event, IdentityRead)
        return event.identity
    finally:
        card.remove()
        events.next(CardRemoved)


CARDS = {
    "accents": make_card(
        last_name="Çelik-Müller", first_names="Ève Zoë", birth_place="Sint-Jans-Molenbeek"
    ),
    "kids_id": make_card(document_type="06", birth_date="2016-03-14", sequence=122, language="fr"),
    "foreigner": make_card(document_type="12", nationality="Marokkaan", applet="1.7"),
    "born_after_2000": make_card(birth_date="2001-12-31", sequence=7),
    "multibyte_tlv": make_card(first_names="Maria " * 50),
    "rsa_sha1_old_card": make_card(applet="1.1", language="de", birth_date="1950-03-01"),
    "t1_reader": make_card(atr=ATR_T1.hex()),
    "german_quirk": make_card(birth_date_text="23.SEP. 1982", birth_date="1982-09-23"),
    "year_only": make_card(birth_date="1950", birth_date_text="1950"),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_cards_read_through_pcscd(
    reader: tuple[PcscReader, Events], pcscd: Pcscd, name: str
) -> None:
    _, events = reader
    card: VirtualCard = CARDS[name]
    identity = _read(pcscd, events, build_image(card))
    assert identity.source == SOURCE_CHIP
    assert identity.reader == VPCD_READER
    assert identity.signature_valid is True
    assert identity.chain_trusted is True
    assert identity.national_number == card.national_number
    assert identity.last_name == card.last_name
    assert identity.first_names == card.first_names
    assert identity.document_type == str(int(card.document_type))
    assert identity.birth_date.isoformat() == card.birth_date
    assert identity.address is not None and identity.address.municipality == "Liège"


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_reads_through_pcscd(
    reader: tuple[PcscReader, Events], pcscd: Pcscd, month: int
) -> None:
    # Month m goes through in language m mod 3; test_simulated covers all 36 combinations.
    language = ("nl", "fr", "de")[month % 3]
    birth = dt.date(1979, month, 28)
    card = make_card(birth_date=birth.isoformat(), language=language)
    identity = _read(pcscd, reader[1], build_image(card))
    assert identity.birth_date.date == birth


def test_card_inserted_comes_before_the_read(
    reader: tuple[PcscReader, Events], pcscd: Pcscd
) -> None:
    _, events = reader
    card = pcscd.card(BelpicCardOS(build_image(make_card())))
    card.insert()
    inserted_at, _ = events.next_timed(CardInserted)
    read_at, _ = events.next_timed(IdentityRead)
    card.remove()
    events.next(CardRemoved)
    assert inserted_at <= read_at


def _tampered(image: CardImage, path: bytes) -> CardImage:
    files = dict(image.files)
    content = bytearray(files[path])
    content[content.index(b"Dupont")] = ord("D") ^ 0x20  # "dupont": one changed letter
    files[path] = bytes(content)
    return CardImage(image.atr, files, image.has_applet, image.applet_version)


@pytest.mark.parametrize("applet", ["1.8", "1.7"])
def test_forged_identity_is_refused(
    reader: tuple[PcscReader, Events], pcscd: Pcscd, applet: str
) -> None:
    _, events = reader
    image = _tampered(build_image(make_card(applet=applet)), belpic.IDENTITY)
    card = pcscd.card(BelpicCardOS(image))
    card.insert()
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and "signature" in failed.reason
    card.remove()
    events.next(CardRemoved)


def test_forged_address_is_refused(reader: tuple[PcscReader, Events], pcscd: Pcscd) -> None:
    _, events = reader
    image = build_image(make_card())
    files = dict(image.files)
    files[belpic.ADDRESS] = files[belpic.ADDRESS].replace(b"4000", b"4001")
    card = pcscd.card(BelpicCardOS(CardImage(image.atr, files)))
    card.insert()
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and "signature" in failed.reason
    card.remove()
    events.next(CardRemoved)


def test_card_signed_by_a_rogue_root_of_the_same_name_is_refused(
    reader: tuple[PcscReader, Events],
    pcscd: Pcscd,
) -> None:
    _, events = reader
    rogue_root_key = ec.generate_private_key(ec.SECP384R1())
    rogue_root = make_certificate(root_certificate("ec").subject, rogue_root_key, ca=True)
    key = ec.generate_private_key(ec.SECP384R1())
    rrn = make_certificate("RRN", key, issuer=rogue_root, issuer_key=rogue_root_key)
    card = pcscd.card(BelpicCardOS(forge_image(make_card(), key, rrn)))
    card.insert()
    events.next(CardInserted)
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and failed.reason == UntrustedCardError.reason
    card.remove()
    events.next(CardRemoved)


def test_card_pulled_mid_read_then_next_card_reads(
    reader: tuple[PcscReader, Events], pcscd: Pcscd
) -> None:
    _, events = reader
    card = pcscd.card(BelpicCardOS(build_image(make_card())), pull_after=5)
    card.insert()
    events.next(CardInserted)
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed)
    assert failed.reason == "the card was taken out before it was read"
    events.next(CardRemoved)
    card.remove()
    assert _read(pcscd, events, build_image(make_card())).signature_valid


def test_bank_card_is_not_an_eid(reader: tuple[PcscReader, Events], pcscd: Pcscd) -> None:
    _, events = reader
    card = pcscd.card(BelpicCardOS(bank_card()))
    card.insert()
    events.next(CardInserted)
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and failed.reason == "this card is not a Belgian e-ID"
    card.remove()
    events.next(CardRemoved)


def test_busy_reader_fails_plainly_then_recovers(pcscd: Pcscd) -> None:
    card = pcscd.card(BelpicCardOS(build_image(make_card())))
    card.insert()
    hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hr == scard.SCARD_S_SUCCESS
    deadline = time.monotonic() + 5
    while True:  # wait until pcscd sees the card, then hold it exclusively
        hr, handle, _ = scard.SCardConnect(
            context, VPCD_READER, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_PROTOCOL_T0
        )
        if hr == scard.SCARD_S_SUCCESS or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert hr == scard.SCARD_S_SUCCESS
    card_reader = PcscReader(VPCD_READER)
    events = Events(card_reader)
    card_reader.start()
    try:
        failed = events.next(CardReadFailed)
        assert isinstance(failed, CardReadFailed) and failed.reason == REASON_BUSY
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
        card.remove()
        events.next(CardRemoved)
        identity = _read(pcscd, events, build_image(make_card()))
        # This reader was built without roots: signatures checked, the chain not.
        assert identity.signature_valid and identity.chain_trusted is None
    finally:
        card_reader.stop()
        card.remove()
        scard.SCardReleaseContext(context)


def test_reader_survives_pcscd_restart(reader: tuple[PcscReader, Events], pcscd: Pcscd) -> None:
    _, events = reader
    card = pcscd.card(BelpicCardOS(build_image(make_card())))
    card.insert()
    events.next(IdentityRead)
    pcscd.restart()
    detached = events.next(ReaderDetached, timeout=10)
    assert isinstance(detached, ReaderDetached) and detached.reason == REASON_SERVICE
    events.next(ReaderAttached, timeout=15)
    # The virtual card reconnects to the new vpcd by itself: the card is read again.
    again = events.next(IdentityRead, timeout=10)
    assert isinstance(again, IdentityRead) and again.identity.signature_valid
    card.remove()
    events.next(CardRemoved)


def _kiosk(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def test_cli_readers_and_read_json(pcscd: Pcscd, tmp_path: Path) -> None:
    roots = tmp_path / "belgium-roots.pem"
    roots.write_bytes(TEST_ROOTS.to_pem())
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[devices]\nreader = "pcsc"\ntrusted_roots = "{roots}"\n')
    listed = _kiosk("card", "readers")
    assert listed.returncode == 0 and VPCD_READER in listed.stdout
    card = make_card(document_type="06", birth_date="2016-03-14", sequence=122)
    virtual = pcscd.card(BelpicCardOS(build_image(card)))
    virtual.insert()
    try:
        result = _kiosk("--config", str(config), "card", "read", "--reader", VPCD_READER, "--json")
    finally:
        virtual.remove()
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "national_number", "card_number", "chip_number", "valid_from", "valid_until",
        "issuing_municipality", "last_name", "first_names", "third_initial", "nationality",
        "birth_place", "birth_date", "sex", "noble_condition", "document_type", "special_status",
        "address", "signature_valid", "chain_trusted",
    ]  # fmt: skip
    assert data["national_number"] == card.national_number
    assert data["birth_date"] == "2016-03-14"
    assert data["document_type"] == "6"
    assert data["chip_number"] == card.chip_number
    assert data["address"] == {
        "street": "Rue de l'Église 12 bte 3",
        "postal_code": "4000",
        "municipality": "Liège",
    }
    assert data["signature_valid"] is True
    assert data["chain_trusted"] is True


def test_cli_read_without_card_fails_in_one_line(pcscd: Pcscd) -> None:
    wait_until_empty()
    result = _kiosk("card", "read", "--reader", VPCD_READER, "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no card" in result.stderr


def test_cli_emulate_serves_a_card_until_sigterm(
    reader: tuple[PcscReader, Events], pcscd: Pcscd, tmp_path: Path
) -> None:
    _, events = reader
    path = tmp_path / "card.json"
    make_card().save(path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli.main",
            "card",
            "emulate",
            str(path),
            "--port",
            str(pcscd.vpcd_port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        event = events.next(IdentityRead, timeout=15)
        assert isinstance(event, IdentityRead) and event.identity.signature_valid
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    events.next(CardRemoved)
