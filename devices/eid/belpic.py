"""The BELPIC applet's files and the two ways of reading them.

:func:`read_identity` is what the kiosk does at check-in: the identity file, its signature and the
RRN certificate (plus the address file and its signature only when asked), each selected once
and read in 256-byte chunks, then checked (signatures, and the RRN certificate's chain to a trusted
root when the reader has roots) and parsed. :func:`read_everything` reads every file an
identity viewer reads (photo and all certificates included); it exists so the benchmark can show
what the kiosk saves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from devices.eid.apdu import SW_OK, CardChannel, FileNotFound, Transport
from devices.eid.errors import NotAnEidCard
from devices.eid.identity import Identity, parse_address_file, parse_identity_file
from devices.eid.signature import verify_files
from devices.eid.trust import TrustedRoots

BELPIC_AID = bytes.fromhex("A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF")

# Absolute paths from the MF, without 3F00, as SELECT with P1 = 08 wants them.
IDENTITY = bytes.fromhex("DF014031")
IDENTITY_SIGNATURE = bytes.fromhex("DF014032")
ADDRESS = bytes.fromhex("DF014033")
ADDRESS_SIGNATURE = bytes.fromhex("DF014034")
PHOTO = bytes.fromhex("DF014035")
CERT_AUTHENTICATION = bytes.fromhex("DF005038")
CERT_SIGNING = bytes.fromhex("DF005039")
CERT_CITIZEN_CA = bytes.fromhex("DF00503A")
CERT_ROOT = bytes.fromhex("DF00503B")
CERT_RRN = bytes.fromhex("DF00503C")

ALL_FILES = (
    IDENTITY,
    IDENTITY_SIGNATURE,
    ADDRESS,
    ADDRESS_SIGNATURE,
    PHOTO,
    CERT_AUTHENTICATION,
    CERT_SIGNING,
    CERT_CITIZEN_CA,
    CERT_ROOT,
    CERT_RRN,
)


@dataclass(frozen=True, slots=True)
class CardFiles:
    """The raw files of one read; the address pair is None when it was not asked for."""

    identity: bytes
    identity_signature: bytes
    rrn_certificate: bytes
    address: bytes | None = None
    address_signature: bytes | None = None


def _read_first(channel: CardChannel, path: bytes) -> bytes:
    """Read the first file; a card without it gets one more chance through the applet's AID."""
    try:
        return channel.read_file(path)
    except FileNotFound:
        # Some cards only find the e-ID files once the applet is selected explicitly; a bank
        # card has no such applet and fails here too.
        if channel.select_aid(BELPIC_AID) != SW_OK:
            raise NotAnEidCard() from None
    try:
        return channel.read_file(path)
    except FileNotFound:
        raise NotAnEidCard() from None


def read_files(transport: Transport, *, with_address: bool) -> tuple[CardFiles, int]:
    """Read what check-in needs (the address pair only if asked); returns files and APDU count."""
    channel = CardChannel(transport)
    identity = _read_first(channel, IDENTITY)
    identity_signature = channel.read_file(IDENTITY_SIGNATURE)
    address = address_signature = None
    if with_address:
        address = channel.read_file(ADDRESS)
        address_signature = channel.read_file(ADDRESS_SIGNATURE)
    rrn_certificate = channel.read_file(CERT_RRN)
    files = CardFiles(identity, identity_signature, rrn_certificate, address, address_signature)
    return files, channel.apdu_count


def identity_from_files(
    files: CardFiles,
    *,
    source: str,
    reader: str = "",
    trusted_roots: TrustedRoots | None = None,
) -> Identity:
    """Verify the signatures and the RRN certificate's chain, then parse the files.

    A forged file raises ``SignatureError``; an RRN certificate no trusted root issued raises
    ``UntrustedCardError``. Without ``trusted_roots`` the chain is not checked and the identity's
    ``chain_trusted`` is None.
    """
    rrn_certificate = verify_files(
        files.identity,
        files.identity_signature,
        files.rrn_certificate,
        files.address,
        files.address_signature,
    )
    address = parse_address_file(files.address) if files.address is not None else None
    identity = parse_identity_file(
        files.identity, address=address, signature_valid=True, source=source, reader=reader
    )
    if trusted_roots is None:
        return identity
    # The validity start is trustworthy here: the signature over it was checked above.
    trusted_roots.verify(rrn_certificate, issued_on=identity.valid_from)
    return replace(identity, chain_trusted=True)


def read_identity(
    transport: Transport,
    *,
    with_address: bool,
    source: str,
    reader: str = "",
    trusted_roots: TrustedRoots | None = None,
) -> tuple[Identity, int]:
    """Read, verify (the chain too, given roots) and parse the card; returns identity and APDUs.

    Raises only :class:`~devices.eid.errors.CardReadError` subclasses.
    """
    files, count = read_files(transport, with_address=with_address)
    identity = identity_from_files(files, source=source, reader=reader, trusted_roots=trusted_roots)
    return identity, count


def read_everything(transport: Transport) -> tuple[dict[bytes, bytes], int]:
    """Read every public file like an identity viewer does; returns the files and APDU count."""
    channel = CardChannel(transport)
    files: dict[bytes, bytes] = {IDENTITY: _read_first(channel, IDENTITY)}
    for path in ALL_FILES[1:]:
        try:
            files[path] = channel.read_file(path)
        except FileNotFound:
            continue
    return files, channel.apdu_count
