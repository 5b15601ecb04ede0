"""Virtual e-ID cards: plain fields in a file, turned into the card's signed files.

A :class:`VirtualCard` holds what a card says (identity, address) plus three facts about the
card itself (its language for the birth-date spelling, its applet generation and thus signature
kind, optionally its ATR). :meth:`VirtualCard.save`/:func:`load` use a small JSON format of our
own; :func:`load` also reads the XML ``.eid`` file the official eID Viewer saves.
:func:`build_image` encodes the files exactly as a card holds them and signs them with the test
RRN key (:mod:`devices.eid.rrn_test_key`, whose certificate a TEST root issued), so the simulator
and the emulator serve cards that verify, chain included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from devices.eid import belpic, rrn_test_key, tlv
from devices.eid.card_os import ATR_APPLET_17, ATR_APPLET_18, CardImage
from devices.eid.dates import format_birth_date, format_validity_date

APPLETS = ("1.8", "1.7", "1.1")
"""1.8 signs with ECDSA P-384; 1.7 with RSA SHA-256; 1.1 with RSA SHA-1."""
LANGUAGES = ("nl", "fr", "de")
ADDRESS_FILE_SIZE = 117
EC_SIGNATURE_FILE_SIZE = 112


class VirtualCardError(ValueError):
    """A virtual card file cannot be used; the message names the problem, not the data."""


@dataclass(frozen=True)
class VirtualAddress:
    """The address file's three fields."""

    street: str
    postal_code: str
    municipality: str


@dataclass(frozen=True)
class VirtualCard:
    """A card's content as plain fields (dates ISO; ``birth_date`` may be a year alone)."""

    national_number: str
    last_name: str
    first_names: str
    birth_date: str
    sex: str
    card_number: str = "591234567890"
    chip_number: str = "534C494E336600296CFF2623660B0826"
    valid_from: str = "2024-01-01"
    valid_until: str = "2034-01-01"
    issuing_municipality: str = "Genk"
    third_initial: str = ""
    nationality: str = "Belg"
    birth_place: str = "Genk"
    noble_condition: str = ""
    document_type: str = "01"
    special_status: str = "0"
    address: VirtualAddress | None = None
    language: str = "nl"
    """The card's language: how the birth date's month is spelt."""
    birth_date_text: str = ""
    """The birth date exactly as the chip writes it, when it must differ from the usual spelling."""
    applet: str = "1.8"
    atr: str = ""
    """Hex; empty for the usual ATR of the applet generation."""

    def __post_init__(self) -> None:
        if self.applet not in APPLETS:
            raise VirtualCardError(f"applet must be one of {', '.join(APPLETS)}")
        if self.language not in LANGUAGES:
            raise VirtualCardError(f"language must be one of {', '.join(LANGUAGES)}")
        if self.sex not in ("M", "F"):
            raise VirtualCardError("sex must be M or F")
        try:
            bytes.fromhex(self.chip_number)
            bytes.fromhex(self.atr)
            dt.date.fromisoformat(self.valid_from)
            dt.date.fromisoformat(self.valid_until)
            if len(self.birth_date) != 4:
                dt.date.fromisoformat(self.birth_date)
            elif not self.birth_date.isdigit():
                raise ValueError
        except ValueError:
            raise VirtualCardError("a date or hex field of the virtual card is malformed") from None

    def save(self, path: Path) -> None:
        """Write the card as JSON (UTF-8, only card content)."""
        data = asdict(self)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VirtualCard:
        """Build a card from the JSON object; raises :class:`VirtualCardError`."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise VirtualCardError(f"unknown field {sorted(unknown)[0]!r} in the virtual card")
        values = dict(data)
        address = values.pop("address", None)
        if address is not None and (
            not isinstance(address, dict) or any(not isinstance(v, str) for v in address.values())
        ):
            raise VirtualCardError("the virtual card's address is an object of strings")
        try:
            if any(not isinstance(v, str) for v in values.values()):
                raise VirtualCardError("every virtual card field except address is a string")
            card_address = VirtualAddress(**address) if address is not None else None
            return cls(**values, address=card_address)
        except TypeError:
            raise VirtualCardError("the virtual card lacks a required field") from None

    def with_changes(self, **changes: Any) -> VirtualCard:
        """A copy with some fields changed (tests and demo data)."""
        return replace(self, **changes)


def load(path: Path) -> VirtualCard:
    """Load a virtual card from our JSON format or an eID Viewer ``.eid`` XML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VirtualCardError(
            f"cannot read the card file {path}: {exc.__class__.__name__}"
        ) from None
    if text.lstrip().startswith("<"):
        return _load_eid_xml(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise VirtualCardError(f"{path} is neither card JSON nor an eID Viewer file") from None
    if not isinstance(data, dict):
        raise VirtualCardError(f"{path} does not hold one card object")
    return VirtualCard.from_dict(data)


# eID Viewer XML (format v4): document types and special statuses are spelt out in words.
_XML_DOCUMENT_TYPES = {
    "belgian_citizen": "01",
    "kids_card": "06",
    "bootstrap_card": "07",
    "habilitation_card": "08",
    "foreigner_a": "11",
    "foreigner_b": "12",
    "foreigner_c": "13",
    "foreigner_d": "14",
    "foreigner_e": "15",
    "foreigner_e_plus": "16",
    "foreigner_f": "17",
    "foreigner_f_plus": "18",
    "european_blue_card_h": "19",
    "ict_i": "20",
    "mobile_ict_j": "21",
    "foreigner_m": "22",
    "foreigner_n": "23",
}
_XML_SPECIAL_STATUS = {
    "NO_STATUS": "0",
    "WHITE_CANE": "1",
    "EXTENDED_MINORITY": "2",
    "WHITE_CANE_EXTENDED_MINORITY": "3",
    "YELLOW_CANE": "4",
    "YELLOW_CANE_EXTENDED_MINORITY": "5",
}


def _xml_date(text: str) -> str:
    if len(text) != 8 or not text.isdigit():
        raise VirtualCardError("a date in the eID Viewer file is not YYYYMMDD")
    if text[4:] == "0000":
        return text[:4]
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def _load_eid_xml(text: str) -> VirtualCard:
    # The file is a technician's own export from the eID Viewer; Python's expat refuses external
    # entities and limits entity expansion, which is all a local file needs.
    try:
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError:
        raise VirtualCardError("the eID Viewer file is not valid XML") from None
    identity, card, address = root.find("identity"), root.find("card"), root.find("address")
    if root.tag != "eid" or identity is None or card is None:
        raise VirtualCardError("the file is not an eID Viewer export (no identity or card)")

    def child(parent: ET.Element | None, name: str) -> str:
        node = parent.find(name) if parent is not None else None
        return (node.text or "") if node is not None else ""

    document = card.get("documenttype", "belgian_citizen")
    card_address = None
    if address is not None:
        card_address = VirtualAddress(
            street=child(address, "streetandnumber"),
            postal_code=child(address, "zip"),
            municipality=child(address, "municipality"),
        )
    try:
        return VirtualCard(
            national_number=identity.get("nationalnumber", ""),
            last_name=child(identity, "name"),
            first_names=child(identity, "firstname"),
            third_initial=child(identity, "middlenames"),
            birth_date=_xml_date(identity.get("dateofbirth", "")),
            sex="F" if identity.get("gender") == "female" else "M",
            nationality=child(identity, "nationality"),
            birth_place=child(identity, "placeofbirth"),
            noble_condition=identity.get("noblecondition", ""),
            special_status=_XML_SPECIAL_STATUS.get(identity.get("specialstatus", ""), "0"),
            card_number=card.get("cardnumber", ""),
            chip_number=card.get("chipnumber", ""),
            valid_from=_xml_date(card.get("validitydatebegin", "")),
            valid_until=_xml_date(card.get("validitydateend", "")),
            issuing_municipality=child(card, "deliverymunicipality"),
            document_type=_XML_DOCUMENT_TYPES.get(document, document),
            address=card_address,
        )
    except VirtualCardError:
        raise
    except ValueError:
        raise VirtualCardError("the eID Viewer file holds a malformed field") from None


def _filler(label: str, size: int, header: bytes) -> bytes:
    """Deterministic stand-in bytes of a realistic size (photo, certificates we never parse)."""
    out = bytearray(header)
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def _der_filler(label: str, size: int) -> bytes:
    body = size - 4
    return _filler(label, size, bytes([0x30, 0x82, body >> 8, body & 0xFF]))


@dataclass(frozen=True)
class _Extras:
    """Files a card has that the kiosk never reads, sized like the real ones."""

    photo: bytes = field(default_factory=lambda: _filler("photo", 3064, b"\xff\xd8\xff\xe0"))
    certificates: tuple[bytes, ...] = field(
        default_factory=lambda: tuple(
            _der_filler(name, size)
            for name, size in (("auth", 1247), ("sign", 1259), ("ca", 1465), ("root", 915))
        )
    )


def identity_file(card: VirtualCard, photo: bytes) -> bytes:
    """EF(ID#RN) as the card holds it."""
    birth = card.birth_date_text
    if not birth:
        if len(card.birth_date) == 4:
            birth = card.birth_date
        else:
            birth = format_birth_date(dt.date.fromisoformat(card.birth_date), card.language)
    photo_hash = hashlib.sha384(photo) if card.applet == "1.8" else hashlib.sha1(photo)  # noqa: S324
    fields_: list[tuple[int, str | bytes]] = [
        (0x01, card.card_number),
        (0x02, bytes.fromhex(card.chip_number)),
        (0x03, format_validity_date(dt.date.fromisoformat(card.valid_from))),
        (0x04, format_validity_date(dt.date.fromisoformat(card.valid_until))),
        (0x05, card.issuing_municipality),
        (0x06, card.national_number),
        (0x07, card.last_name),
        (0x08, card.first_names),
        (0x09, card.third_initial),
        (0x0A, card.nationality),
        (0x0B, card.birth_place),
        (0x0C, birth),
        (0x0D, card.sex),
        (0x0E, card.noble_condition),
        (0x0F, card.document_type),
        (0x10, card.special_status),
        (0x11, photo_hash.digest()),
    ]
    return tlv.encode(
        [(tag, v if isinstance(v, bytes) else v.encode("utf-8")) for tag, v in fields_]
    )


def address_file(address: VirtualAddress | None) -> bytes:
    """EF(ID#Address), zero padded to its fixed size."""
    if address is None:
        address = VirtualAddress("", "", "")
    return tlv.encode(
        [
            (0x01, address.street.encode("utf-8")),
            (0x02, address.postal_code.encode("utf-8")),
            (0x03, address.municipality.encode("utf-8")),
        ],
        pad_to=ADDRESS_FILE_SIZE,
    )


def _sign(card: VirtualCard, data: bytes) -> bytes:
    if card.applet == "1.8":
        signature = rrn_test_key.sign(data, "ec")
        return signature + bytes(EC_SIGNATURE_FILE_SIZE - len(signature))
    return rrn_test_key.sign(data, "rsa", "sha1" if card.applet == "1.1" else "sha256")


def build_image(card: VirtualCard) -> CardImage:
    """Encode and sign every file of the card, as the emulator serves them."""
    extras = _Extras()
    identity = identity_file(card, extras.photo)
    address = address_file(card.address)
    identity_signature = _sign(card, identity)
    address_signature = _sign(card, address.rstrip(b"\0") + identity_signature)
    kind = "ec" if card.applet == "1.8" else "rsa"
    files = {
        belpic.IDENTITY: identity,
        belpic.IDENTITY_SIGNATURE: identity_signature,
        belpic.ADDRESS: address,
        belpic.ADDRESS_SIGNATURE: address_signature,
        belpic.PHOTO: extras.photo,
        belpic.CERT_AUTHENTICATION: extras.certificates[0],
        belpic.CERT_SIGNING: extras.certificates[1],
        belpic.CERT_CITIZEN_CA: extras.certificates[2],
        belpic.CERT_ROOT: extras.certificates[3],
        belpic.CERT_RRN: rrn_test_key.certificate(kind),
    }
    if card.atr:
        atr = bytes.fromhex(card.atr)
    else:
        atr = ATR_APPLET_18 if card.applet == "1.8" else ATR_APPLET_17
    version = {"1.8": 0x18, "1.7": 0x17, "1.1": 0x11}[card.applet]
    return CardImage(atr=atr, files=files, has_applet=True, applet_version=version)


def load_image(path: Path) -> CardImage:
    """Load a card file and build the image the emulator serves."""
    return build_image(load(path))
