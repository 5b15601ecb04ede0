"""Checking the identity and address files against the National Register's signatures.

EF(SGN#ID) signs EF(ID#RN); EF(SGN#Address) signs the address file without its trailing zero
bytes followed by the whole EF(SGN#ID). Both are made with the key of the RRN certificate
(EF(Cert#8), 3F00/DF00/503C): RSA PKCS#1 v1.5 with SHA-1 or SHA-256 on older cards, ECDSA P-384
with SHA-384 on applet 1.8 cards, whose signature files are zero padded after the DER value.
Every failure raises :class:`~devices.eid.errors.SignatureError`, nothing else. Whether the RRN
certificate itself comes from the National Register is :mod:`devices.eid.trust`'s question.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.eid.errors import SignatureError

# Older cards used SHA-1, later ones SHA-256; the RSA signature says which, trying both is simpler.
_RSA_HASHES: tuple[hashes.HashAlgorithm, ...] = (hashes.SHA256(), hashes.SHA1())  # noqa: S303


def der_length(data: bytes) -> int:
    """The size of the DER element at the start of ``data`` (files are padded after it)."""
    if len(data) < 2:
        raise SignatureError()
    first = data[1]
    if first < 0x80:
        size = 2 + first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise SignatureError()
        size = 2 + count + int.from_bytes(data[2 : 2 + count], "big")
    if size > len(data):
        raise SignatureError()
    return size


def load_certificate(data: bytes) -> x509.Certificate:
    """The RRN certificate from the card file (any padding after it ignored)."""
    try:
        return x509.load_der_x509_certificate(data[: der_length(data)])
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
        # InvalidVersion is no ValueError; a damaged version field raises it (found by fuzzing).
        raise SignatureError() from None


def verify(signed: bytes, signature_file: bytes, certificate: x509.Certificate) -> None:
    """Check ``signed`` against a card signature file; raises :class:`SignatureError`."""
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError() from None
    try:
        if isinstance(key, rsa.RSAPublicKey):
            signature = signature_file[: (key.key_size + 7) // 8]
            for algorithm in _RSA_HASHES:
                try:
                    key.verify(signature, signed, padding.PKCS1v15(), algorithm)
                    return
                except InvalidSignature:
                    continue
            raise SignatureError()
        if isinstance(key, ec.EllipticCurvePublicKey):
            signature = signature_file[: der_length(signature_file)]
            key.verify(signature, signed, ec.ECDSA(hashes.SHA384()))
            return
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        raise SignatureError() from None
    raise SignatureError("the card's signing certificate uses an unknown algorithm")


def address_signed_data(address_file: bytes, identity_signature_file: bytes) -> bytes:
    """What EF(SGN#Address) signs: the trimmed address file, then the whole EF(SGN#ID)."""
    return address_file.rstrip(b"\0") + identity_signature_file


def verify_files(
    identity_file: bytes,
    identity_signature: bytes,
    rrn_certificate: bytes,
    address_file: bytes | None = None,
    address_signature: bytes | None = None,
) -> x509.Certificate:
    """Verify the identity file, and the address file when given; raises :class:`SignatureError`.

    Returns the RRN certificate that made the signatures, whose own chain is still to be checked
    (:mod:`devices.eid.trust`).
    """
    certificate = load_certificate(rrn_certificate)
    verify(identity_file, identity_signature, certificate)
    if address_file is not None:
        if address_signature is None:
            raise SignatureError()
        verify(
            address_signed_data(address_file, identity_signature), address_signature, certificate
        )
    return certificate
