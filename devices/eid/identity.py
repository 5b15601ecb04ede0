"""The identity value the reader hands to the application, parsed from the card's files.

``Identity`` carries every field of EF(ID#RN) the kiosk may need, the optional address, whether
the signatures were checked, and how the identity was established (``source``), which Belgian
hospitals must keep for billing. Its ``repr``/``str`` show none of the personal data (national
number, names, birth date, address), so logging an identity by mistake leaks nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from devices.eid import national_number, tlv
from devices.eid.dates import BirthDate, parse_birth_date, parse_validity_date
from devices.eid.digits import ascii_digits
from devices.eid.errors import CardDataError

# Identity file tags (see the card content document).
TAG_CARD_NUMBER = 0x01
TAG_CHIP_NUMBER = 0x02
TAG_VALID_FROM = 0x03
TAG_VALID_UNTIL = 0x04
TAG_ISSUING_MUNICIPALITY = 0x05
TAG_NATIONAL_NUMBER = 0x06
TAG_LAST_NAME = 0x07
TAG_FIRST_NAMES = 0x08
TAG_THIRD_INITIAL = 0x09
TAG_NATIONALITY = 0x0A
TAG_BIRTH_PLACE = 0x0B
TAG_BIRTH_DATE = 0x0C
TAG_SEX = 0x0D
TAG_NOBLE_CONDITION = 0x0E
TAG_DOCUMENT_TYPE = 0x0F
TAG_SPECIAL_STATUS = 0x10
TAG_PHOTO_HASH = 0x11

# Address file tags.
TAG_STREET = 0x01
TAG_POSTAL_CODE = 0x02
TAG_MUNICIPALITY = 0x03

_REQUIRED = (
    TAG_CARD_NUMBER,
    TAG_VALID_FROM,
    TAG_VALID_UNTIL,
    TAG_NATIONAL_NUMBER,
    TAG_LAST_NAME,
    TAG_BIRTH_DATE,
    TAG_SEX,
    TAG_DOCUMENT_TYPE,
)
# The card writes V (vrouw) or W (Weiblich) for women on Dutch and German cards.
_SEX = {"M": "M", "F": "F", "V": "F", "W": "F"}

DOCUMENT_TYPES: dict[str, str] = {
    "1": "Belgian citizen e-ID",
    "6": "Kids-ID",
    "7": "bootstrap card",
    "8": "habilitation card",
    **{str(code): "foreigner card" for code in (*range(11, 24), 27, 28, *range(31, 37))},
    **{str(code): "foreigner kids card" for code in range(61, 70)},
}
"""Document type codes (as :attr:`Identity.document_type` holds them) and what they are."""

SOURCE_CHIP = "chip"
"""The identity was read from a card's chip through PC/SC and its signatures checked."""
SOURCE_SIMULATED = "simulated"
"""The identity came from a virtual card in the simulated reader (demo, tests)."""


@dataclass(frozen=True, slots=True, repr=False)
class Address:
    """The holder's main residence (EF(ID#Address))."""

    street: str
    postal_code: str
    municipality: str

    def __repr__(self) -> str:
        return "Address(<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, repr=False)
class Identity:
    """What the card says about its holder; ``repr`` hides the personal data."""

    card_number: str
    chip_number: bytes
    valid_from: dt.date
    valid_until: dt.date
    issuing_municipality: str
    national_number: str
    """11 digits, validated. Sensitive: never log it; use ``national_number.masked``."""
    last_name: str
    first_names: str
    third_initial: str
    nationality: str
    birth_place: str
    birth_date: BirthDate
    sex: str
    """``M`` or ``F``."""
    noble_condition: str
    document_type: str
    """The card's code without leading zeros (``"1"`` eID, ``"6"`` Kids-ID...): DOCUMENT_TYPES."""
    special_status: str
    """``"0"`` none, ``"1"`` white cane, ``"2"`` extended minority... as the card codes it."""
    address: Address | None
    """Only read when asked for (``None`` otherwise)."""
    signature_valid: bool | None
    """True when both files matched their signatures; None when nothing was checked."""
    source: str
    """How the identity was established: :data:`SOURCE_CHIP` or :data:`SOURCE_SIMULATED`."""
    reader: str = ""
    """The name of the reader the card was in."""
    chain_trusted: bool | None = None
    """True when the RRN certificate that signed the files was issued by a trusted Belgium Root
    CA; None when the reader had no trusted roots and could not tell. (A card that fails the
    check is never read, so False does not occur on a read identity.)"""

    def __repr__(self) -> str:
        return (
            f"Identity(document_type={self.document_type!r}, "
            f"card_number='…{self.card_number[-3:]}', source={self.source!r}, "
            f"signature_valid={self.signature_valid!r}, chain_trusted={self.chain_trusted!r}, "
            f"address={self.address is not None})"
        )

    __str__ = __repr__

    @property
    def masked_national_number(self) -> str:
        """The national number as screens and logs may show it."""
        return national_number.masked(self.national_number)


def _text(fields: dict[int, bytes], tag: int) -> str:
    try:
        return fields.get(tag, b"").decode("utf-8")
    except UnicodeDecodeError:
        raise CardDataError() from None


# Codes are one or two digits today ("1", "01", "61"); a few more leave room for new ones.
_DOCUMENT_TYPE_DIGITS = 4


def parse_identity_file(
    data: bytes,
    *,
    address: Address | None = None,
    signature_valid: bool | None,
    source: str,
    reader: str = "",
) -> Identity:
    """Build an :class:`Identity` from EF(ID#RN); raises only ``CardReadError`` subclasses."""
    fields = tlv.parse(data)
    if any(tag not in fields for tag in _REQUIRED):
        raise CardDataError()
    try:
        number = national_number.validate(_text(fields, TAG_NATIONAL_NUMBER))
    except national_number.InvalidNationalNumber:
        raise CardDataError("the card's national register number is not valid") from None
    sex = _SEX.get(_text(fields, TAG_SEX).strip().upper())
    if sex is None:
        raise CardDataError()
    document_type = _text(fields, TAG_DOCUMENT_TYPE).strip()
    if not ascii_digits(document_type, 1, _DOCUMENT_TYPE_DIGITS):
        raise CardDataError()
    special_status = _text(fields, TAG_SPECIAL_STATUS).strip() or "0"
    return Identity(
        card_number=_text(fields, TAG_CARD_NUMBER),
        chip_number=fields.get(TAG_CHIP_NUMBER, b""),
        valid_from=parse_validity_date(_text(fields, TAG_VALID_FROM)),
        valid_until=parse_validity_date(_text(fields, TAG_VALID_UNTIL)),
        issuing_municipality=_text(fields, TAG_ISSUING_MUNICIPALITY),
        national_number=number,
        last_name=_text(fields, TAG_LAST_NAME),
        first_names=_text(fields, TAG_FIRST_NAMES),
        third_initial=_text(fields, TAG_THIRD_INITIAL),
        nationality=_text(fields, TAG_NATIONALITY),
        birth_place=_text(fields, TAG_BIRTH_PLACE),
        birth_date=parse_birth_date(_text(fields, TAG_BIRTH_DATE)),
        sex=sex,
        noble_condition=_text(fields, TAG_NOBLE_CONDITION),
        document_type=str(int(document_type)),
        special_status=special_status,
        address=address,
        signature_valid=signature_valid,
        source=source,
        reader=reader,
    )


def parse_address_file(data: bytes) -> Address:
    """Build an :class:`Address` from EF(ID#Address); raises only ``CardReadError`` subclasses."""
    fields = tlv.parse(data)
    return Address(
        street=_text(fields, TAG_STREET),
        postal_code=_text(fields, TAG_POSTAL_CODE),
        municipality=_text(fields, TAG_MUNICIPALITY),
    )
