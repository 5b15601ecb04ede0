"""Fuzzing every parser entry point and the APDU layer: bad card data ends in a CardReadError
(a national number in InvalidNationalNumber, a virtual card file in VirtualCardError), nothing
else.

About 45 000 cases in the normal run (a few thousand per test, under a minute);
``--fuzz-examples 100000`` (``make fuzz``) gives each test that many.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.eid import belpic, national_number, tlv
from devices.eid.apdu import MAX_FILE_SIZE
from devices.eid.card_os import BelpicCardOS, CardImage
from devices.eid.dates import parse_birth_date, parse_validity_date
from devices.eid.errors import CardReadError, UntrustedCardError
from devices.eid.identity import Identity, parse_address_file, parse_identity_file
from devices.eid.rrn_test_key import TEST_ROOTS
from devices.eid.simulated import MemoryTransport
from devices.eid.trust import SIGNING_TOLERANCE, TrustedRoots
from devices.eid.virtual_card import VirtualCard, VirtualCardError, build_image, load
from tests import run_options
from tests.eid.conftest import make_card, make_certificate

_LONG_RUN = run_options.fuzz_examples
_MAX_APDUS = 400  # far above a real read (about 20): more means the reader loops


def _settings(examples: int) -> settings:
    return settings(
        max_examples=_LONG_RUN or examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@cache
def _image(applet: str = "1.7") -> CardImage:
    return build_image(make_card(applet=applet))


# Characters people and damaged cards put where digits belong: ASCII digits, the look-alikes
# str.isdigit() takes (superscripts, fullwidth, other scripts), separators, letters.
_DIGITISH = st.sampled_from(
    list("0123456789") + list("¹²³⁰⁴₀₉０１９٠٣۴१৭") + list(" .-/\t\u00a0") + list("AaOoÄßlI")
)
_ODD_TEXT = st.one_of(
    st.text(_DIGITISH, max_size=16),
    st.text(max_size=16),
    # Long runs of digits: int() refuses more than 4300 of them.
    st.integers(0, MAX_FILE_SIZE).map(lambda n: "7" * n),
)


def _field_value() -> st.SearchStrategy[bytes]:
    """What a damaged card may hold in a field: odd text, bytes that are not UTF-8, nothing."""
    return st.one_of(_ODD_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary())


def _files(image: CardImage) -> belpic.CardFiles:
    files = image.files
    return belpic.CardFiles(
        files[belpic.IDENTITY],
        files[belpic.IDENTITY_SIGNATURE],
        files[belpic.CERT_RRN],
        files[belpic.ADDRESS],
        files[belpic.ADDRESS_SIGNATURE],
    )


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """The file with bytes flipped, cut, inserted or removed."""
    edits = st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete"]),
            st.integers(0, len(data)),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    )

    def apply(changes: list[tuple[str, int, int]]) -> bytes:
        out = bytearray(data)
        for kind, where, value in changes:
            where = min(where, len(out))
            if kind == "flip" and where < len(out):
                out[where] = value
            elif kind == "cut":
                del out[where:]
            elif kind == "insert":
                out.insert(where, value)
            elif where < len(out):
                del out[where]
        return bytes(out)

    return edits.map(apply)


@_settings(6000)
@given(st.binary(max_size=300))
def test_tlv_random_bytes(data: bytes) -> None:
    with contextlib.suppress(CardReadError):
        tlv.parse(data)


@_settings(5000)
@given(_ODD_TEXT)
def test_national_number_odd_text(text: str) -> None:
    try:
        digits, info = national_number.parse(text)
    except national_number.InvalidNationalNumber as exc:
        assert str(exc).startswith(("a national register number", "the "))
        return
    assert len(digits) == 11 and digits.isascii() and digits.isdigit()
    assert info.century in (1900, 2000)


@_settings(5000)
@given(
    st.one_of(
        _ODD_TEXT,
        st.tuples(
            st.text(_DIGITISH, max_size=3),
            st.sampled_from([" ", ".", ". ", "  ", ""]),
            st.sampled_from(["JAN", "FEV", "MÄR", "mär", "AOUT", "DEZ", "XYZ", "1", "13", ""]),
            st.sampled_from([" ", ".", ". ", ""]),
            st.text(_DIGITISH, max_size=5),
        ).map("".join),
    )
)
def test_dates_odd_text(text: str) -> None:
    with contextlib.suppress(CardReadError):
        birth = parse_birth_date(text)
        assert 0 <= birth.year <= 9999  # a year alone may be 0000, as the card wrote it
        assert birth.date is None or birth.date.year == birth.year
    with contextlib.suppress(CardReadError):
        parse_validity_date(text)


_IDENTITY_TAGS = sorted(tlv.parse(_image().files[belpic.IDENTITY]))


@_settings(5000)
@given(
    st.dictionaries(
        st.sampled_from([*_IDENTITY_TAGS, 0x00, 0x12, 0x14, 0x1F, 0xFF]),
        st.none() | _field_value(),
        min_size=1,
        max_size=4,
    )
)
def test_identity_fields_replaced(changes: dict[int, bytes | None]) -> None:
    """The real identity file with some fields replaced by odd values, or removed (None)."""
    fields = tlv.parse(_image().files[belpic.IDENTITY])
    for tag, value in changes.items():
        if value is None:
            fields.pop(tag, None)
        else:
            fields[tag] = value
    with contextlib.suppress(CardReadError):
        identity = parse_identity_file(tlv.encode(fields), signature_valid=None, source="fuzz")
        assert isinstance(identity, Identity)
        assert national_number.is_valid(identity.national_number)
        assert identity.document_type.isascii() and identity.document_type.isdigit()


@_settings(3000)
@given(st.dictionaries(st.integers(0, 0xFF), _field_value(), max_size=6), st.integers(0, 200))
def test_address_any_fields(fields: dict[int, bytes], pad: int) -> None:
    with contextlib.suppress(CardReadError):
        parse_address_file(tlv.encode(fields) + bytes(pad))


@_settings(4000)
@given(st.data())
def test_identity_and_address_mutated(data: st.DataObject) -> None:
    files = _image().files
    identity = data.draw(_mutations(files[belpic.IDENTITY]))
    address = data.draw(_mutations(files[belpic.ADDRESS]))
    for parse, content in ((parse_identity_file, identity), (parse_address_file, address)):
        try:
            if parse is parse_identity_file:
                parse_identity_file(content, signature_valid=None, source="fuzz")
            else:
                parse_address_file(content)
        except CardReadError:
            pass


class _Chaos:
    """A card answering random data and status words, biased towards the interesting ones."""

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = answers
        self.count = 0

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.count += 1
        assert self.count <= _MAX_APDUS, "the reader kept sending APDUs"
        if not self.answers:
            return b"", 0x9000
        return self.answers[(self.count - 1) % len(self.answers)]


_STATUS = st.one_of(
    st.sampled_from(
        [0x9000, 0x6B00, 0x6282, 0x6A82, 0x6986, 0x6982, 0x6D00, 0x6E00, 0x6700, 0x6F00]
    ),
    st.integers(0x6100, 0x61FF),
    st.integers(0x6C00, 0x6CFF),
    st.integers(0, 0xFFFF),
    st.integers(-5, 0x1FFFF),
)


@_settings(5000)
@given(st.lists(st.tuples(st.binary(max_size=300), _STATUS), max_size=12))
def test_apdu_layer_odd_answers(answers: list[tuple[bytes, int]]) -> None:
    with contextlib.suppress(CardReadError):
        belpic.read_identity(_Chaos(answers), with_address=True, source="fuzz")


@_settings(5000)
@given(st.data())
def test_full_read_of_mutated_cards(data: st.DataObject) -> None:
    image = _image()
    target = data.draw(st.sampled_from(sorted(image.files)))
    files = dict(image.files)
    files[target] = data.draw(_mutations(files[target]))
    pull_after = data.draw(st.none() | st.integers(0, 25))
    card = BelpicCardOS(CardImage(image.atr, files))
    try:
        identity, _ = belpic.read_identity(
            MemoryTransport(card, pull_after),
            with_address=True,
            source="fuzz",
            trusted_roots=TEST_ROOTS,
        )
    except CardReadError:
        return
    # Whatever got through must be exactly what the National Register signed.
    assert files[belpic.IDENTITY] == image.files[belpic.IDENTITY]
    assert files[belpic.ADDRESS].rstrip(b"\0") == image.files[belpic.ADDRESS].rstrip(b"\0")
    assert identity.signature_valid is True
    assert identity.chain_trusted is True


@_settings(3000)
@given(st.data())
def test_signed_files_mutated(data: st.DataObject) -> None:
    """Damaged signatures or RRN certificates, on both signature kinds: SignatureError only."""
    image = _image(data.draw(st.sampled_from(["1.8", "1.7"])))
    target = data.draw(
        st.sampled_from([belpic.CERT_RRN, belpic.IDENTITY_SIGNATURE, belpic.ADDRESS_SIGNATURE])
    )
    files = dict(image.files)
    files[target] = data.draw(_mutations(files[target]))
    with contextlib.suppress(CardReadError):
        identity = belpic.identity_from_files(
            _files(CardImage(image.atr, files)), source="fuzz", trusted_roots=TEST_ROOTS
        )
        assert identity.chain_trusted is True


_ROOT_KEY = ec.generate_private_key(ec.SECP384R1())
_RRN_KEY = ec.generate_private_key(ec.SECP384R1())
# The dates a certificate can carry, the two ends drawn often: from 1950 (cryptography's floor)
# to RFC 5280's "no well-defined expiration", 9999-12-31.
_FIRST, _LAST = dt.date(1950, 1, 1), dt.date(9999, 12, 31)
_CERTIFICATE_DATES = st.one_of(st.sampled_from([_FIRST, _LAST]), st.dates(_FIRST, _LAST))


@_settings(1000)
@given(
    st.tuples(_CERTIFICATE_DATES, _CERTIFICATE_DATES).map(sorted),
    st.tuples(_CERTIFICATE_DATES, _CERTIFICATE_DATES).map(sorted),
    st.dates(),
)
def test_chain_at_any_dates(
    root_valid: list[dt.date], rrn_valid: list[dt.date], issued_on: dt.date
) -> None:
    """Roots and RRN certificates valid over any span, cards issued on any day."""
    root = make_certificate("Root", _ROOT_KEY, ca=True, valid=(root_valid[0], root_valid[1]))
    rrn = make_certificate(
        "RRN", _RRN_KEY, issuer=root, issuer_key=_ROOT_KEY, valid=(rrn_valid[0], rrn_valid[1])
    )
    try:
        TrustedRoots((root,)).verify(rrn, issued_on=issued_on)
    except UntrustedCardError:
        # A card issued within both validities is never refused...
        assert not (
            root_valid[0] <= issued_on <= root_valid[1]
            and rrn_valid[0] <= issued_on <= rrn_valid[1]
        )
        return
    # ...and one is accepted only within both, give or take the signing tolerance.
    for first, last in (root_valid, rrn_valid):
        assert (issued_on - first).days >= -SIGNING_TOLERANCE.days - 1
        assert (last - issued_on).days >= -SIGNING_TOLERANCE.days - 1


@_settings(2000)
@given(
    st.sampled_from(
        [
            "national_number",
            "birth_date",
            "birth_date_text",
            "valid_from",
            "valid_until",
            "document_type",
            "special_status",
            "sex",
            "chip_number",
            "card_number",
            "last_name",
        ]
    ),
    st.one_of(_ODD_TEXT, st.integers(), st.none(), st.lists(st.text(), max_size=2)),
    st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["street", "postal_code", "municipality", "x"]), st.text()),
        st.dictionaries(st.text(max_size=3), st.integers() | st.none(), max_size=3),
        st.text(max_size=3),
    ),
)
def test_virtual_card_files_with_odd_fields(field: str, value: object, address: object) -> None:
    """A card file with an odd field loads as VirtualCardError or reads as CardReadError."""
    content = {**json.loads(json.dumps(_card_fields())), field: value, "address": address}
    with TemporaryDirectory() as folder:
        path = Path(folder) / "card.json"
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        try:
            card = load(path)
        except VirtualCardError:
            return
    with contextlib.suppress(CardReadError):
        belpic.identity_from_files(_files(build_image(card)), source="fuzz")


@cache
def _card_fields() -> dict[str, object]:
    card = make_card()
    fields = {name: getattr(card, name) for name in VirtualCard.__dataclass_fields__}
    fields["address"] = None
    return fields
