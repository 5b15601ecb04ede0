"""Identity parsing, its privacy-safe repr, and the signature checks (RSA and EC)."""

from __future__ import annotations

import dataclasses

import pytest

from devices.eid import belpic, rrn_test_key, tlv
from devices.eid.errors import CardDataError, SignatureError
from devices.eid.identity import parse_address_file, parse_identity_file
from devices.eid.signature import verify_files
from devices.eid.virtual_card import build_image
from tests.eid.conftest import make_card


def test_identity_fields_and_hidden_repr() -> None:
    card = make_card(document_type="06", special_status="1", noble_condition="Baron")
    image = build_image(card)
    identity = parse_identity_file(
        image.files[belpic.IDENTITY], signature_valid=True, source="chip"
    )
    assert identity.national_number == card.national_number
    assert (identity.last_name, identity.first_names, identity.third_initial) == (
        "Dupont-Lefèvre",
        "Zoë Anaïs",
        "M",
    )
    assert identity.document_type == "6"
    assert identity.special_status == "1"
    assert identity.noble_condition == "Baron"
    assert identity.chip_number.hex().upper() == card.chip_number
    shown = repr(identity) + str(identity) + repr(dataclasses.replace(identity))
    for secret in (card.national_number, "Dupont", "Zoë", "1985"):
        assert secret not in shown
    assert identity.masked_national_number.endswith(card.national_number[-2:])


@pytest.mark.parametrize(("letter", "sex"), [("M", "M"), ("F", "F"), ("V", "F"), ("W", "F")])
def test_sex_letters(letter: str, sex: str) -> None:
    fields = tlv.parse(build_image(make_card()).files[belpic.IDENTITY])
    fields[0x0D] = letter.encode()
    identity = parse_identity_file(tlv.encode(fields), signature_valid=None, source="chip")
    assert identity.sex == sex


def test_bad_national_number_is_refused_without_echo() -> None:
    fields = tlv.parse(build_image(make_card()).files[belpic.IDENTITY])
    fields[0x06] = b"85073003329"
    with pytest.raises(CardDataError) as caught:
        parse_identity_file(tlv.encode(fields), signature_valid=None, source="chip")
    assert "85073003329" not in str(caught.value)


@pytest.mark.parametrize("number", ["8507300332²", "８５０７３００３３２８"])
def test_a_number_in_odd_digits_is_damaged_card_data(number: str) -> None:
    fields = tlv.parse(build_image(make_card()).files[belpic.IDENTITY])
    fields[0x06] = number.encode()
    with pytest.raises(CardDataError, match="national register number is not valid"):
        parse_identity_file(tlv.encode(fields), signature_valid=None, source="chip")


def test_missing_required_field() -> None:
    fields = tlv.parse(build_image(make_card()).files[belpic.IDENTITY])
    del fields[0x07]
    with pytest.raises(CardDataError):
        parse_identity_file(tlv.encode(fields), signature_valid=None, source="chip")


def test_address() -> None:
    address = parse_address_file(build_image(make_card()).files[belpic.ADDRESS])
    assert (address.street, address.postal_code, address.municipality) == (
        "Rue de l'Église 12 bte 3",
        "4000",
        "Liège",
    )
    assert "Église" not in repr(address)


@pytest.mark.parametrize("applet", ["1.8", "1.7", "1.1"])
def test_signatures_verify_and_forgery_fails(applet: str) -> None:
    files = build_image(make_card(applet=applet)).files
    args = [files[p] for p in (belpic.IDENTITY, belpic.IDENTITY_SIGNATURE, belpic.CERT_RRN)]
    verify_files(*args, files[belpic.ADDRESS], files[belpic.ADDRESS_SIGNATURE])
    forged = bytearray(args[0])
    forged[-1] ^= 1
    with pytest.raises(SignatureError):
        verify_files(bytes(forged), *args[1:])
    with pytest.raises(SignatureError):
        verify_files(
            *args, files[belpic.ADDRESS].replace(b"4000", b"4001"), files[belpic.ADDRESS_SIGNATURE]
        )
    with pytest.raises(SignatureError):
        verify_files(*args, files[belpic.ADDRESS], None)


def test_signature_from_another_key_is_refused() -> None:
    files = build_image(make_card(applet="1.8")).files
    with pytest.raises(SignatureError):
        verify_files(
            files[belpic.IDENTITY],
            files[belpic.IDENTITY_SIGNATURE],
            rrn_test_key.certificate("rsa"),
        )
    with pytest.raises(SignatureError):
        verify_files(
            files[belpic.IDENTITY], files[belpic.IDENTITY_SIGNATURE], b"\x30\x03\x02\x01\x00"
        )
