"""Whether a card's RRN certificate was issued by a trusted Belgium Root CA.

The identity and address files are signed with the key of the RRN certificate that the card
itself carries (EF(Cert#8), 3F00/DF00/503C), so their signatures alone prove only that the files
match *some* certificate: a forger can write a card with a key of their own. The National
Register's certificate is issued directly by a "Belgium Root CA" (CA3 and CA4 are RSA, CA6 is
P-384), and :meth:`TrustedRoots.verify` checks exactly that: the issuer's signature over the
certificate (RSA PKCS#1 v1.5 or ECDSA, with the hash the certificate names), the certificate's
issuer name equal to the root's subject, the root a certificate authority allowed to sign
certificates, and both certificates valid at the right moment.

The right moment is when the card's files were signed, not when the card is read. A card stays
valid for 10 years, and root and RRN certificates expire while cards signed under them are still
in use; judging validity on the day of the read would refuse those genuine cards. The National
Register signs the identity file when the card is made, and the card's validity start date
(in that file, covered by the signature already checked) is that day give or take the weeks of
production, hence :data:`SIGNING_TOLERANCE` on both sides. What this does not cover: a
compromised RRN or root key (the kiosk has no revocation lists; it works offline).

Roots come from a PEM bundle the technician installs (the official certificates from
repository.eid.belgium.be); the test root that issues the virtual cards' RRN certificate is in
:mod:`devices.eid.rrn_test_key`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from devices.eid.errors import UntrustedCardError

SIGNING_TOLERANCE = dt.timedelta(days=31)
"""How far the card's validity start may lie outside a certificate's validity (production time)."""

REASON_NOT_VALID_THEN = (
    "the card's National Register certificate was not valid when the card was issued"
)


class TrustRootsError(ValueError):
    """A bundle of trusted roots cannot be used; the message says why (quoting no certificate)."""


def _is_certificate_authority(certificate: x509.Certificate) -> bool:
    """Whether ``certificate`` may issue certificates: a CA, allowed keyCertSign if usage is set."""
    try:
        extensions = certificate.extensions
        constraints = extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            return False
        try:
            return extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
        except x509.ExtensionNotFound:
            return True
    except (x509.ExtensionNotFound, ValueError):  # no constraints, or extensions unreadable
        return False


def _valid_at(certificate: x509.Certificate, moment: dt.datetime) -> bool:
    # Differences, not shifted dates: a root valid until 9999-12-31 (RFC 5280's "no expiry")
    # plus the tolerance is past the last date Python has, and would raise OverflowError.
    return (
        moment - certificate.not_valid_before_utc >= -SIGNING_TOLERANCE
        and certificate.not_valid_after_utc - moment >= -SIGNING_TOLERANCE
    )


def signing_moment(issued_on: dt.date) -> dt.datetime:
    """The moment a card's files are taken to have been signed: noon UTC of its validity start."""
    return dt.datetime.combine(issued_on, dt.time(12), tzinfo=dt.UTC)


@dataclass(frozen=True)
class TrustedRoots:
    """The root certificates an RRN certificate must be issued by (at least one, all CAs)."""

    certificates: tuple[x509.Certificate, ...]

    def __post_init__(self) -> None:
        if not self.certificates:
            raise TrustRootsError("holds no certificate")
        for position, certificate in enumerate(self.certificates, start=1):
            # A leaf certificate here is a mistake (a citizen's own certificate, the RRN one);
            # the message gives its position only, as its subject may name a person.
            if not _is_certificate_authority(certificate):
                raise TrustRootsError(
                    f"certificate {position} of {len(self.certificates)} is not a certificate "
                    "authority (only the Belgium Root CA certificates belong in the bundle)"
                )

    @classmethod
    def from_pem(cls, data: bytes) -> TrustedRoots:
        """Roots from the text of a PEM bundle; raises :class:`TrustRootsError`."""
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise TrustRootsError(
                "holds no PEM certificate (convert a DER .crt file with "
                "`openssl x509 -inform DER -in FILE.crt`)"
            )
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except (ValueError, UnsupportedAlgorithm):
            raise TrustRootsError("holds a damaged PEM certificate") from None
        return cls(tuple(certificates))

    @classmethod
    def load(cls, path: Path) -> TrustedRoots:
        """Roots from a PEM bundle file; raises :class:`TrustRootsError` naming the problem."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise TrustRootsError(f"{path} does not exist") from None
        except OSError as exc:
            raise TrustRootsError(f"{path} cannot be read ({exc.__class__.__name__})") from None
        try:
            return cls.from_pem(data)
        except TrustRootsError as exc:
            raise TrustRootsError(f"{path} {exc}") from None

    def to_pem(self) -> bytes:
        """The bundle as PEM text (what :meth:`from_pem` reads)."""
        return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in self.certificates)

    def verify(self, certificate: x509.Certificate, *, issued_on: dt.date) -> None:
        """Check that a root issued ``certificate`` and both were valid on ``issued_on``.

        ``issued_on`` is the card's validity start (see the module docstring). Raises
        :class:`~devices.eid.errors.UntrustedCardError`: with its usual reason when no root
        issued the certificate, with :data:`REASON_NOT_VALID_THEN` when one did but the root or
        the certificate was not valid on that day.
        """
        moment = signing_moment(issued_on)
        issued_by_a_root = False
        for root in self.certificates:
            try:
                # verify_directly_issued_by compares the names too; checking first skips the
                # signature check for roots that cannot be the issuer.
                if root.subject != certificate.issuer:
                    continue
                certificate.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
            issued_by_a_root = True
            if _valid_at(root, moment) and _valid_at(certificate, moment):
                return
        if issued_by_a_root:
            raise UntrustedCardError(REASON_NOT_VALID_THEN)
        raise UntrustedCardError()
