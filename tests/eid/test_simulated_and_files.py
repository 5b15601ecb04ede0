"""The simulated reader, virtual card files (JSON and eID Viewer XML) and the APDU layer."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from devices.eid import belpic
from devices.eid.apdu import CardChannel
from devices.eid.card_os import BelpicCardOS
from devices.eid.dates import MONTH_ABBREVIATIONS
from devices.eid.errors import CardRemovedError
from devices.eid.reader import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    IdentityRead,
    ReaderAttached,
    ReaderDetached,
)
from devices.eid.simulated import MemoryTransport, SimulatedReader
from devices.eid.virtual_card import VirtualCard, VirtualCardError, build_image, load
from tests.eid.conftest import Events, make_card

EID_XML = """<?xml version="1.0" encoding="UTF-8"?>
<eid version="4.1">
  <identity nationalnumber="{nn}" dateofbirth="19850730" gender="female"
            specialstatus="WHITE_CANE">
    <name>Van den Bossche</name>
    <firstname>Anneleen Marie</firstname>
    <middlenames>J</middlenames>
    <nationality>Belg</nationality>
    <placeofbirth>Hasselt</placeofbirth>
    <photo>/9j/4AAQ</photo>
  </identity>
  <card documenttype="foreigner_b" cardnumber="B01234567" chipnumber="{chip}"
        validitydatebegin="20200115" validitydateend="20300115">
    <deliverymunicipality>Genk</deliverymunicipality>
  </card>
  <address>
    <streetandnumber>Stationsstraat 1</streetandnumber>
    <zip>3600</zip>
    <municipality>Genk</municipality>
  </address>
  <certificates><root>AA==</root><citizenca>AA==</citizenca><rrn>AA==</rrn></certificates>
</eid>
"""


@pytest.fixture
def simulated() -> tuple[SimulatedReader, Events]:
    reader = SimulatedReader(with_address=True)
    events = Events(reader)
    reader.start()
    events.next(ReaderAttached)
    yield reader, events  # type: ignore[misc]
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 2


def test_json_round_trip_and_read(
    tmp_path: Path, simulated: tuple[SimulatedReader, Events]
) -> None:
    reader, events = simulated
    card = make_card()
    path = tmp_path / "card.json"
    card.save(path)
    assert load(path) == card
    reader.insert(path)
    events.next(CardInserted)
    read = events.next(IdentityRead)
    assert isinstance(read, IdentityRead)
    assert read.identity.source == "simulated" and read.identity.signature_valid
    assert read.identity.address is not None
    reader.remove()
    events.next(CardRemoved)


def test_eid_viewer_export(tmp_path: Path, simulated: tuple[SimulatedReader, Events]) -> None:
    from devices.eid import national_number

    number = national_number.make(dt.date(1985, 7, 30), 42)
    path = tmp_path / "export.eid"
    path.write_text(
        EID_XML.format(nn=number, chip="00112233445566778899AABBCCDDEEFF"), encoding="utf-8"
    )
    reader, events = simulated
    reader.insert(path)
    read = events.next(IdentityRead)
    assert isinstance(read, IdentityRead)
    identity = read.identity
    assert identity.national_number == number
    assert (identity.last_name, identity.third_initial, identity.sex) == (
        "Van den Bossche",
        "J",
        "F",
    )
    assert (identity.document_type, identity.special_status) == ("12", "1")
    assert identity.valid_until == dt.date(2030, 1, 15)
    assert identity.address is not None and identity.address.street == "Stationsstraat 1"


@pytest.mark.parametrize("text", ["{", "[]", '{"surname": "x"}', "<eid/>", "<eid><identity"])
def test_bad_card_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VirtualCardError):
        load(path)


def test_faults_give_plain_events(
    simulated: tuple[SimulatedReader, Events], tmp_path: Path
) -> None:
    reader, events = simulated
    reader.insert_bank_card()
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and failed.reason == "this card is not a Belgian e-ID"
    reader.insert_unreadable()
    events.next(CardRemoved)
    assert isinstance(events.next(CardReadFailed), CardReadFailed)
    reader.insert(make_card(), pull_after=4)
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and "taken out" in failed.reason
    reader.insert(tmp_path / "missing.json")
    failed = events.next(CardReadFailed)
    assert isinstance(failed, CardReadFailed) and "virtual card" in failed.reason
    reader.unplug()
    events.next(ReaderDetached)
    reader.insert(make_card())  # no reader: nothing happens
    reader.plug()
    events.next(ReaderAttached)
    reader.insert(make_card())
    assert isinstance(events.next(IdentityRead), IdentityRead)


def test_subscriber_errors_do_not_stop_the_reader(
    simulated: tuple[SimulatedReader, Events],
) -> None:
    reader, events = simulated

    def broken(_: object) -> None:
        raise RuntimeError("ui bug")

    reader.subscribe(broken)
    reader.insert(make_card())
    assert isinstance(events.next(IdentityRead), IdentityRead)


@pytest.mark.parametrize("language", sorted(MONTH_ABBREVIATIONS))
def test_every_month_in_every_language_through_the_card(language: str) -> None:
    for month in range(1, 13):
        birth = dt.date(1990, month, 17)
        image = build_image(make_card(birth_date=birth.isoformat(), language=language))
        identity, _ = belpic.read_identity(
            MemoryTransport(BelpicCardOS(image)), with_address=False, source="simulated"
        )
        assert identity.birth_date.date == birth


def test_check_in_reads_a_third_of_a_full_read() -> None:
    image = build_image(make_card())
    _, check_in = belpic.read_identity(
        MemoryTransport(BelpicCardOS(image)), with_address=False, source="x"
    )
    files, full = belpic.read_everything(MemoryTransport(BelpicCardOS(image)))
    assert belpic.PHOTO in files and check_in * 3 < full


class _Scripted:
    """A transport answering from a list of (data, sw)."""

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = answers
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        if not self.answers:
            raise CardRemovedError()
        return self.answers.pop(0)


def test_apdu_get_response_and_wrong_length() -> None:
    script = _Scripted([(b"", 0x9000), (b"", 0x6C03), (b"", 0x6103), (b"ABC", 0x9000)])
    assert CardChannel(script).read_file(belpic.IDENTITY) == b"ABC"
    assert script.sent[1] == bytes.fromhex("00B0000000")
    assert script.sent[2] == bytes.fromhex("00B0000003")
    assert script.sent[3] == bytes.fromhex("00C0000003")


def test_apdu_end_of_file_variants() -> None:
    chunk = bytes(256)
    script = _Scripted([(b"", 0x9000), (chunk, 0x9000), (b"", 0x6B00)])
    assert CardChannel(script).read_file(belpic.IDENTITY) == chunk
    script = _Scripted([(b"", 0x9000), (chunk, 0x9000), (b"xy", 0x6282)])
    channel = CardChannel(script)
    assert channel.read_file(belpic.IDENTITY) == chunk + b"xy"
    assert channel.apdu_count == 3


def test_virtual_card_validation() -> None:
    with pytest.raises(VirtualCardError):
        make_card(applet="2.0")
    with pytest.raises(VirtualCardError):
        VirtualCard.from_dict({"national_number": "1"})
