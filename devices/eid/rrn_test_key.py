"""The test National Register (RRN) key that signs virtual cards. Never trusted for real cards.

Virtual cards need signature files made the way the National Register makes them, so the whole
verification path runs in the simulator and through the card emulator. The keys are fixed so
every process (simulator, emulator, tests) builds byte-identical certificates: the elliptic
curve key (applet 1.8 cards) is derived from a constant, and the RSA key (older cards) cannot be
derived that way so its PEM is here. Both are public by construction and named "TEST" in their
certificates; the kiosk does not check the RRN certificate's chain (see the report), so a virtual
card verifies exactly like a real one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

_RSA_PEM = b"""\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCb2FMQtIjucqv9
9WIqFDonamgY8WdaRXGJlHgeAs4oVfGH4zGyXg4MrOrGbmRqpTrFYUmluU3T2Aed
QmxIEVcVbQSYpe19uvRJi319+I4UDfvsH9AIQRONMuZXe6hiqKzatdb0TtOnG55D
9ut6ZIy6xO0pfHgJNgAs/FtNKkVlB6Y9dIfLZb4PUMmuFCYoxwcsxu70WR2dQVJ/
UUhwHlR1eIS+qtno4tB/X4xLwUBgNcvtitQ1jTBrNZTgKyUKGGh5VkxgmbK8nkc6
QdYFgn1cMxbU7Q7jftNEd4JYNan9IrBX136fIB0OPHpdUuBBQRVgvObopvHih0ld
RbNbYcTfAgMBAAECggEAFHRab/6HW7yN7xbOMTWsbaXypGtyzuSpwo6hDAH+6vO0
xXVqqBLeMd20MXfQaDWS4Xsjvm5Jf7zX6v+1KemqDgmGqT5bTb2Zoy7SuWjub5q8
7kCSqQgEN+vD/cbLfVTO3c8wt6oXmimZe9QkaKZag4el6mRddjVcj+BOCh0P30g4
HjF0SAe0vBEZdT/96//sTWCKttvrVLzEXSH7U4FyRvNvy90aWsTLzWOe7cW/qrV/
U9RTR66o6C+7z/4nVUV/B/kKUnR5x77OFoLkOY9f8knxGy+wclj2ocihEWJoe9QW
3S1zcfiriVfzBP8hYnS4Pazjh9bF6BdGHUOspbQtqQKBgQDZasrS1RssZJh/XJw2
WYT6twMBI+8iBPhPP2v7QbzhQ1WrYbWhPZ2qCc7N9WvNgAO2kObZBd4Dgppl6GZC
DBsoa0IAgHA4HvHp4of9HoaPjcwLRH1KpWuOo5kCKF8ORjKPiuVEQTXLNZexYoGs
Oma2jKshM2O1BwQYiV7obsslfQKBgQC3gFM5pSGu+BNORCG96NFm086Uty/fV2be
3S0F/JYTOPM86C+eAF068xj0BohRdanuwFKek9+wcyraX5vLw/BxlZUBwRtVzdcM
PhyYLVKmODfwxl7usQM3nDfy6u+P+LbObqHLHXVAfqtryaLzwP1FId9cHKA1+gXR
i2sWAGoyiwKBgCq9Ln/BeqUAZWXr+51HfbeXUFTiDnkehv11FzH+GzYg+W9GNuEq
bprlcKzWCMoN1y0FUQvqdlk0TEuqIqfrH0+TvhbBKM4vbxit+lOMs6D2m9y/Ku4I
lJsml8ZvzzfMHtZO1IDVXNDEiTxKg/kqRdSu1Fkjc/87ENgN8QU5+l81AoGAXWJo
+EUZRznoWURDB6qcJoBT+UrgigCo0XItn4ZTuaSZ5L0kvnvg9kcQw98vMIV43Y/y
e9E1XU6+2DMfzisBCkzdb+8eQiRm9EwHsUofbYfesCHD3iUnRf2yW2VEVTh1j8it
ffiX2yKbilcrHnFwcuYyDWZkAhQjMeiJrsC3StECgYEAl1AMMu4YvIdBnG+MrpvA
TkhFrRgzJJGyjuRy7odg4H/YJm2mOBnADijMgtRJ47ALnbULMVe32KbCl3Ch2GMb
my+I364e/bNcKCtYvKk6tZUIy/Sw3KXm/g3P8iD66tAb5GRoeNvNqotrcIs1ZYfq
jZ+Pyn5IO8wRyQdGwrZDO/8=
-----END PRIVATE KEY-----

"""

_EC_SEED = b"rehab-kiosk virtual e-ID: test National Register key"
# The order of P-384: the derived scalar must lie below it.
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """The RSA-2048 test RRN key."""
    key = serialization.load_pem_private_key(_RSA_PEM, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    """The P-384 test RRN key, derived from a constant."""
    scalar = int.from_bytes(hashlib.sha384(_EC_SEED).digest(), "big") % (_P384_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


@cache
def certificate(kind: str) -> bytes:
    """The DER test RRN certificate for ``"rsa"`` or ``"ec"`` keys (deterministic for RSA)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = rsa_key() if kind == "rsa" else ec_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.COMMON_NAME, "TEST RRN - virtual e-ID, not the registry"),
        ]
    )
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start.replace(year=2050))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def sign(data: bytes, kind: str, rsa_hash: str = "sha256") -> bytes:
    """Sign like the National Register: RSA PKCS#1 v1.5 (SHA-256 or SHA-1) or ECDSA SHA-384 DER."""
    if kind == "rsa":
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if rsa_hash == "sha1" else hashes.SHA256()  # noqa: S303
        return rsa_key().sign(data, padding.PKCS1v15(), algorithm)
    return ec_key().sign(data, ec.ECDSA(hashes.SHA384()))
