"""The RRN certificate's chain to a trusted root: forged cards, validity, bundles, settings, CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devices.eid import belpic, rrn_test_key
from devices.eid.card_os import CardImage
from devices.eid.errors import SignatureError, UntrustedCardError
from devices.eid.reader import CardInserted, CardReadFailed, IdentityRead, ReaderAttached
from devices.eid.signature import load_certificate
from devices.eid.simulated import SimulatedReader
from devices.eid.trust import REASON_NOT_VALID_THEN, TrustedRoots, TrustRootsError
from devices.eid.virtual_card import build_image
from kiosk.cli.main import main
from kiosk.core.config import ConfigError, from_mapping
from tests.eid.conftest import Events, Key, forge_image, make_card, make_certificate

UNTRUSTED = UntrustedCardError.reason
ROGUE_EC = ec.generate_private_key(ec.SECP384R1())
ROGUE_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROGUE_ROOT_KEY = ec.generate_private_key(ec.SECP384R1())
GENUINE_ROOT_KEY = ec.generate_private_key(ec.SECP384R1())


def _test_root_name(kind: str) -> x509.Name:
    return rrn_test_key.root_certificate(kind).subject


def _rogue(way: str, key: Key, kind: str) -> x509.Certificate:
    """A forger's RRN certificate for ``key``, made in one of the ways a forger might try."""
    if way == "self_signed":
        return make_certificate("RRN", key)
    if way == "self_signed_in_the_roots_name":
        return make_certificate(_test_root_name(kind), key)
    root_name = _test_root_name(kind) if way == "rogue_root_same_name" else "Belgium Root CA4"
    rogue_root = make_certificate(root_name, ROGUE_ROOT_KEY, ca=True)
    return make_certificate("RRN", key, issuer=rogue_root, issuer_key=ROGUE_ROOT_KEY)


ROGUE_WAYS = (
    "self_signed",
    "self_signed_in_the_roots_name",
    "rogue_root_same_name",
    "rogue_root_named_ca4",
)


ReadWith = Callable[..., IdentityRead | CardReadFailed]


@pytest.fixture
def read_with() -> Iterator[ReadWith]:
    """``read_with(image, roots)``: insert into a simulated reader; IdentityRead or failure."""
    readers: list[SimulatedReader] = []

    def read(
        image: CardImage, roots: TrustedRoots | None = rrn_test_key.TEST_ROOTS
    ) -> IdentityRead | CardReadFailed:
        reader = SimulatedReader(with_address=True, trusted_roots=roots)
        readers.append(reader)
        events = Events(reader)
        reader.start()
        events.next(ReaderAttached)
        reader.insert(image)
        events.next(CardInserted)
        outcome = events.next(object)
        assert isinstance(outcome, IdentityRead | CardReadFailed)
        return outcome

    yield read
    for reader in readers:
        reader.stop()


# Through the simulated reader ---------------------------------------------------------------


@pytest.mark.parametrize("applet", ["1.8", "1.7", "1.1"])
def test_genuine_test_card_chains_to_the_test_root(read_with: ReadWith, applet: str) -> None:
    outcome = read_with(build_image(make_card(applet=applet)))
    assert isinstance(outcome, IdentityRead)
    assert outcome.identity.signature_valid is True
    assert outcome.identity.chain_trusted is True
    assert "chain_trusted=True" in repr(outcome.identity)


@pytest.mark.parametrize("way", ROGUE_WAYS)
@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_card_signed_by_a_rogue_certificate_is_refused(
    read_with: ReadWith, way: str, kind: str
) -> None:
    key: Key = ROGUE_EC if kind == "ec" else ROGUE_RSA
    card = make_card(applet="1.8" if kind == "ec" else "1.7")
    image = forge_image(card, key, _rogue(way, key, kind))
    outcome = read_with(image)
    assert isinstance(outcome, CardReadFailed)
    assert outcome.reason == UNTRUSTED
    # Without the chain check the same forgery reads as a perfectly signed card: the hole.
    unchecked = read_with(image, None)
    assert isinstance(unchecked, IdentityRead)
    assert unchecked.identity.signature_valid is True
    assert unchecked.identity.chain_trusted is None


def test_reader_without_roots_reports_none(read_with: ReadWith) -> None:
    outcome = read_with(build_image(make_card()), None)
    assert isinstance(outcome, IdentityRead) and outcome.identity.chain_trusted is None


def test_test_cards_do_not_pass_other_roots(read_with: ReadWith) -> None:
    other = TrustedRoots((make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True),))
    outcome = read_with(build_image(make_card()), other)
    assert isinstance(outcome, CardReadFailed) and outcome.reason == UNTRUSTED


def test_rogue_root_with_the_trusted_roots_name_is_refused(read_with: ReadWith) -> None:
    # The kiosk trusts "Belgium Root CA4"; the forger made their own "Belgium Root CA4".
    genuine = make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True)
    rogue = make_certificate("Belgium Root CA4", ROGUE_ROOT_KEY, ca=True)
    assert rogue.subject == genuine.subject
    rrn = make_certificate("RRN", ROGUE_EC, issuer=rogue, issuer_key=ROGUE_ROOT_KEY)
    roots = TrustedRoots((genuine,))
    outcome = read_with(forge_image(make_card(), ROGUE_EC, rrn), roots)
    assert isinstance(outcome, CardReadFailed) and outcome.reason == UNTRUSTED
    # The same card from the genuine root reads.
    issued = make_certificate("RRN", ROGUE_EC, issuer=genuine, issuer_key=GENUINE_ROOT_KEY)
    outcome = read_with(forge_image(make_card(), ROGUE_EC, issued), roots)
    assert isinstance(outcome, IdentityRead) and outcome.identity.chain_trusted is True


def test_card_issued_outside_the_test_roots_validity_is_refused(read_with: ReadWith) -> None:
    outcome = read_with(build_image(make_card(valid_from="2100-06-01")))
    assert isinstance(outcome, CardReadFailed) and outcome.reason == REASON_NOT_VALID_THEN


def test_untrusted_is_a_signature_error() -> None:
    # Callers that refuse a SignatureError refuse an untrusted chain as well.
    assert issubclass(UntrustedCardError, SignatureError)
    files = build_image(make_card()).files
    card_files = belpic.CardFiles(
        files[belpic.IDENTITY], files[belpic.IDENTITY_SIGNATURE], files[belpic.CERT_RRN]
    )
    other = TrustedRoots((rrn_test_key.root_certificate("rsa"),))  # the EC card's root missing
    with pytest.raises(UntrustedCardError):
        belpic.identity_from_files(card_files, source="chip", trusted_roots=other)


# Validity: judged on the day the card was issued -------------------------------------------

ROOT_VALID = (dt.date(2010, 1, 1), dt.date(2019, 12, 31))


def _chain(
    root_valid: tuple[dt.date, dt.date] = ROOT_VALID,
    rrn_valid: tuple[dt.date, dt.date] = ROOT_VALID,
) -> tuple[TrustedRoots, x509.Certificate]:
    root = make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True, valid=root_valid)
    rrn = make_certificate(
        "RRN", ROGUE_EC, issuer=root, issuer_key=GENUINE_ROOT_KEY, valid=rrn_valid
    )
    return TrustedRoots((root,)), rrn


@pytest.mark.parametrize(
    "issued_on",
    [
        dt.date(2015, 6, 1),  # root and certificate long expired today: the card still reads
        dt.date(2010, 1, 1),
        dt.date(2009, 12, 5),  # within the tolerance before the start
        dt.date(2020, 1, 30),  # within the tolerance after the end
    ],
)
def test_chain_valid_when_the_card_was_issued(issued_on: dt.date) -> None:
    roots, rrn = _chain()
    roots.verify(rrn, issued_on=issued_on)


@pytest.mark.parametrize(
    ("issued_on", "root_valid", "rrn_valid"),
    [
        (dt.date(2020, 3, 1), ROOT_VALID, ROOT_VALID),  # root (and certificate) expired
        (dt.date(2009, 10, 1), ROOT_VALID, ROOT_VALID),  # root not yet valid
        (dt.date(2015, 6, 1), ROOT_VALID, (dt.date(2010, 1, 1), dt.date(2012, 1, 1))),
        (dt.date(2015, 6, 1), (dt.date(2016, 1, 1), dt.date(2030, 1, 1)), ROOT_VALID),
    ],
)
def test_chain_not_valid_when_the_card_was_issued(
    issued_on: dt.date, root_valid: tuple[dt.date, dt.date], rrn_valid: tuple[dt.date, dt.date]
) -> None:
    roots, rrn = _chain(root_valid, rrn_valid)
    with pytest.raises(UntrustedCardError) as caught:
        roots.verify(rrn, issued_on=issued_on)
    assert caught.value.reason == REASON_NOT_VALID_THEN


@pytest.mark.parametrize("issued_on", [dt.date(2024, 1, 1), dt.date(9999, 12, 31)])
def test_a_root_without_expiry_issues_cards(issued_on: dt.date) -> None:
    # RFC 5280's "no well-defined expiration", 9999-12-31: the tolerance must not overflow.
    no_expiry = (dt.date(2000, 1, 1), dt.date(9999, 12, 31))
    roots, rrn = _chain(no_expiry, no_expiry)
    roots.verify(rrn, issued_on=issued_on)


def test_renewed_root_with_the_same_name_is_found() -> None:
    # Two roots of one name (a renewal): the one that signed and was valid then is used.
    old = make_certificate("Belgium Root CA4", ROGUE_ROOT_KEY, ca=True, valid=ROOT_VALID)
    renewal = (dt.date(2019, 1, 1), dt.date(2040, 1, 1))
    new = make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True, valid=renewal)
    rrn = make_certificate("RRN", ROGUE_EC, issuer=new, issuer_key=GENUINE_ROOT_KEY)
    TrustedRoots((old, new)).verify(rrn, issued_on=dt.date(2024, 1, 1))


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
@pytest.mark.parametrize("root_kind", ["rsa", "ec"])
def test_issuer_signature_with_the_hash_the_certificate_names(
    algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512, root_kind: str
) -> None:
    root_key: Key = ROGUE_RSA if root_kind == "rsa" else GENUINE_ROOT_KEY
    root = make_certificate("Belgium Root CA6", root_key, ca=True)
    rrn = make_certificate("RRN", ROGUE_EC, issuer=root, issuer_key=root_key, algorithm=algorithm)
    assert rrn.signature_hash_algorithm is not None
    assert rrn.signature_hash_algorithm.name == algorithm.name
    TrustedRoots((root,)).verify(rrn, issued_on=dt.date(2024, 1, 1))


def test_test_roots_issue_the_test_rrn_certificates() -> None:
    for kind in ("rsa", "ec"):
        certificate = load_certificate(rrn_test_key.certificate(kind))
        rrn_test_key.TEST_ROOTS.verify(certificate, issued_on=dt.date(2024, 1, 1))
        assert "TEST" in certificate.subject.rfc4514_string()
        assert "TEST" in certificate.issuer.rfc4514_string()
    # RSA signatures are deterministic: every process builds the same certificate.
    assert rrn_test_key.certificate.__wrapped__("rsa") == rrn_test_key.certificate("rsa")


# Bundles ------------------------------------------------------------------------------------


def test_bundle_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "roots.pem"
    path.write_bytes(rrn_test_key.TEST_ROOTS.to_pem())
    loaded = TrustedRoots.load(path)
    assert loaded.certificates == rrn_test_key.TEST_ROOTS.certificates


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "holds no PEM certificate"),
        (b"garbage\n", "holds no PEM certificate"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "damaged PEM certificate",
        ),
        (
            rrn_test_key.root_certificate("rsa").public_bytes(serialization.Encoding.DER),
            "openssl x509 -inform DER",
        ),
        (
            load_certificate(rrn_test_key.certificate("ec")).public_bytes(
                serialization.Encoding.PEM
            ),
            "certificate 1 of 1 is not a certificate authority",
        ),
    ],
)
def test_bad_bundles_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "roots.pem"
    path.write_bytes(content)
    with pytest.raises(TrustRootsError) as caught:
        TrustedRoots.load(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_missing_bundle_and_ca_without_cert_signing(tmp_path: Path) -> None:
    with pytest.raises(TrustRootsError, match="does not exist"):
        TrustedRoots.load(tmp_path / "absent.pem")
    with pytest.raises(TrustRootsError, match="holds no certificate"):
        TrustedRoots(())
    usage = x509.KeyUsage(True, True, False, False, False, False, True, False, False)
    root = make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True)
    limited = (
        x509.CertificateBuilder(
            issuer_name=root.issuer,
            subject_name=root.subject,
            public_key=root.public_key(),
            serial_number=root.serial_number,
            not_valid_before=root.not_valid_before_utc,
            not_valid_after=root.not_valid_after_utc,
            extensions=list(root.extensions),
        )
        .add_extension(usage, critical=True)
        .sign(GENUINE_ROOT_KEY, hashes.SHA384())
    )
    with pytest.raises(TrustRootsError, match="not a certificate authority"):
        TrustedRoots((root, limited))


# Settings -----------------------------------------------------------------------------------


def test_setting_trusted_roots(tmp_path: Path) -> None:
    path = tmp_path / "belgium-roots.pem"
    path.write_bytes(rrn_test_key.TEST_ROOTS.to_pem())
    configured = from_mapping({"devices": {"trusted_roots": str(path)}}, None)
    assert configured.trusted_roots == path
    assert configured.load_trusted_roots() == rrn_test_key.TEST_ROOTS
    assert from_mapping({}, None).trusted_roots is None
    assert from_mapping({}, None).load_trusted_roots() is None
    path.unlink()  # taken away after the settings were read
    with pytest.raises(ConfigError, match=r"\[devices\] trusted_roots: .* does not exist"):
        configured.load_trusted_roots()


@pytest.mark.parametrize(
    ("content", "why"), [(None, "does not exist"), (b"not a certificate", "no PEM certificate")]
)
def test_setting_trusted_roots_errors(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "belgium-roots.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        from_mapping({"devices": {"trusted_roots": str(path)}}, tmp_path / "kiosk.toml")
    message = str(caught.value)
    assert "[devices] trusted_roots" in message and why in message
    assert str(tmp_path / "kiosk.toml") in message


# kiosk card read --virtual ------------------------------------------------------------------


def test_cli_virtual_read_reports_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card.json"
    make_card().save(card)
    assert main(["card", "read", "--virtual", str(card), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["signature_valid"] is True and data["chain_trusted"] is True
    other = tmp_path / "other.pem"
    other.write_bytes(
        TrustedRoots((make_certificate("Belgium Root CA4", GENUINE_ROOT_KEY, ca=True),)).to_pem()
    )
    assert main(["card", "read", "--virtual", str(card), "--roots", str(other)]) == 1
    assert capsys.readouterr().err == f"kiosk: the card could not be read: {UNTRUSTED}\n"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("nothing\n")
    assert main(["card", "read", "--virtual", str(card), "--roots", str(garbage)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no PEM certificate" in error
