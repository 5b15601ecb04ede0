"""The TEST National Register (RRN) keys that sign virtual cards, and the TEST roots issuing them.

Virtual cards need signature files made the way the National Register makes them, so the whole
verification path runs in the simulator and through the card emulator. Like a real card's, the
test RRN certificate is issued directly by a root: a TEST RSA root (standing in for Belgium Root
CA3/CA4) for the RSA cards of applets 1.1 and 1.7, and a TEST P-384 root (standing in for CA6)
for the elliptic curve cards of applet 1.8. :data:`TEST_ROOTS` trusts both; the simulated reader
uses it by default and the tests hand it to the PC/SC reader. Real cards never chain to it.

The keys are fixed so every process (simulator, emulator, tests) agrees on them: the elliptic
curve keys are derived from constants, the RSA keys cannot be derived that way so their PEMs are
here. All are public by construction and every certificate's name says TEST; the RSA
certificates are byte-identical in every process, the ECDSA-signed ones differ only in their
signature values (ECDSA signs with a random nonce), which the chain check does not mind.
Validity runs from 2000 to 2099 so virtual cards of any date verify.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from devices.eid.trust import TrustedRoots

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

_ROOT_RSA_PEM = b"""\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCYcm9/0Ki3cXbI
m91rzkwALIaKGAry6c33Pe1UE4Kuo+PgWKofnCwlf7Z7CMmPtVUMXZEKrfFCybTX
5qWq+TDnLzjWtvi/HAZiENATjMmtBLTZpUkCOIOM8nGU12HARHOzFBJ83nlpfmne
oq2UbdgTw9iHtVUNePNyFWHQsIRjCyDL82g6hwpzHNW5rFxoJy21urK0gM85bSPZ
fyrEMrGAt1xhzXDjL0H15J3Csb/G5lXgTWXIIj3D8DDUxjybsqJpA15Memu2HEkY
zBBMoCmAmeXbXwJEflebIiEtgn8ml4BiYYM1W+AUDFDwyexFjcGdWLgUed7GoyIM
kGXnVD2HAgMBAAECggEAGDGpMm7KJ/rw8BuUg4SFGU33uDjim/SxRHjmjn5eMhs+
kh9gOI4Pj4/6RQJ7Aryzl7fNyhUbAg+DDPTE/CJ6OWaMLb9yMNpgxPWIIGIqq7Pg
g94wfRK9BgSANDAOinYSqqwX1wtz12NBqBzHUZQxQ8nENp13tyCn+kYcdQNer10Z
ANrLR2Wxlsxu2CY2418ZnhcN6qRWYNfs6ASsnvxgh6dwVzWDN2Ah0c450Ger0RnO
69mJm7ZjDmr3ly43T+tOk1PtvE/S/VYbv04J3CJLAZOUiLzqLVfWAyc2rOBXv9Et
VI+RTVMD9+4bNDFZySeDz3D141llb82gq4BQ0a40KQKBgQDNp2rsyfck36V1y3HF
cec1ZL744cYTbrpz1P7voyuiVhrpDkUbJj+tolZd+mSEhauZSzoT41npM36K1+Zc
GiKcVkiM8Mw30icchcCjyYQrOYpngcbirSspMokMBoAjZrtPg588OMen8qks8hxF
77IXkCV6Vb1vvRwqvFPUVsjQpQKBgQC9xHk4BRoymkiYG5bWnxIkDIrmTm2e16ld
im4/a4f+gK8CQ0RX4dJ7ZRqHMaIqYDn5HTkwJKD61HlHOVp8pdOyhV1inkT/ziw7
O8v3q37cPbFxyh0oqr6I1krqeKAjFhsfbQycqs6FMfMyglglB+BqWqm4XAfnC54j
z4LIG29xuwKBgQCeZI+qCHPdZpNdgnACDpRxP0MHFX0lgmcAx9ACab41rfPUBDWd
j3wEE8BJaYz5tKpRyurUXorlXc/cyCSYU1jM6HfAdcYUSDvvb+TLQW4WjJ7Y0c+I
zq8rb8y2Alu26Gzj9RAzpdfAttkt0NuN0ets0ozLCDZ7VT/YemxmYuEQMQKBgB1y
scTptckIfB9umJexk6UYdS2MGiK+IMAtTTJ2Q2JRIddeDOr+ViVj6Rv1rc6ZpCVu
TYOVC44hDrjow4v4R8O6QmWdXeO8YMzIWLyUVlljEXgw/xlidbLSXknIckE/mvHj
gEOHlgjBWZYK+Ba3BDI8432Ceo92FBJGj2ryJvclAoGBAKlhzNiqdMWIbfdKC2hs
hnkNbkK6emFdmi/4Znm6vvB8mNgXn/YL23xiMOrRL7bdgo+Beps3oX/3gXRXOxG3
qYovQw6iFdMH5LRut9yRaFXcBPE9hvjRGu9HqR9JIFnLPytG43NcilfChXCDTzWO
qyMkIltHn2KJ/fkhXb8ZQyb/
-----END PRIVATE KEY-----
"""

_EC_SEED = b"rehab-kiosk virtual e-ID: test National Register key"
_ROOT_EC_SEED = b"rehab-kiosk virtual e-ID: TEST Belgium Root CA6 key"
# The order of P-384: the derived scalar must lie below it.
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


_VALID_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_VALID_UNTIL = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
_ROOT_NAMES = {
    "rsa": "TEST Belgium Root CA4 - rehab-kiosk test root - never trust",
    "ec": "TEST Belgium Root CA6 - rehab-kiosk test root - never trust",
}

TestKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _p384_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha384(seed).digest(), "big") % (_P384_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def _rsa_key(pem: bytes) -> rsa.RSAPrivateKey:
    # Our own constant keys: the (slow) consistency check of RSA private keys proves nothing.
    key = serialization.load_pem_private_key(
        pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """The RSA-2048 test RRN key."""
    return _rsa_key(_RSA_PEM)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    """The P-384 test RRN key, derived from a constant."""
    return _p384_key(_EC_SEED)


@cache
def root_key(kind: str) -> TestKey:
    """The key of the TEST root for ``"rsa"`` (RSA-2048) or ``"ec"`` (P-384) RRN certificates."""
    return _rsa_key(_ROOT_RSA_PEM) if kind == "rsa" else _p384_key(_ROOT_EC_SEED)


def _issuer_hash(key: TestKey) -> hashes.SHA256 | hashes.SHA384:
    """The hash the roots sign with: SHA-256 with RSA (like CA3/CA4), SHA-384 with P-384 (CA6)."""
    return hashes.SHA256() if isinstance(key, rsa.RSAPrivateKey) else hashes.SHA384()


@cache
def root_certificate(kind: str) -> x509.Certificate:
    """The self-signed TEST root that issues the ``"rsa"`` or ``"ec"`` test RRN certificate."""
    key = root_key(kind)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.COMMON_NAME, _ROOT_NAMES[kind]),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x7E57)
        .not_valid_before(_VALID_FROM)
        .not_valid_after(_VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, _issuer_hash(key))
    )


@cache
def certificate(kind: str) -> bytes:
    """The DER test RRN certificate for ``"rsa"`` or ``"ec"`` keys, issued by its TEST root."""
    key: TestKey = rsa_key() if kind == "rsa" else ec_key()
    root = root_certificate(kind)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.COMMON_NAME, "TEST RRN - virtual e-ID, not the registry"),
        ]
    )
    issuer_key = root_key(kind)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_VALID_FROM)
        .not_valid_after(_VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, _issuer_hash(issuer_key))
    )
    return cert.public_bytes(serialization.Encoding.DER)


def sign(data: bytes, kind: str, rsa_hash: str = "sha256") -> bytes:
    """Sign like the National Register: RSA PKCS#1 v1.5 (SHA-256 or SHA-1) or ECDSA SHA-384 DER."""
    if kind == "rsa":
        algorithm: hashes.HashAlgorithm = hashes.SHA1() if rsa_hash == "sha1" else hashes.SHA256()  # noqa: S303
        return rsa_key().sign(data, padding.PKCS1v15(), algorithm)
    return ec_key().sign(data, ec.ECDSA(hashes.SHA384()))


TEST_ROOTS = TrustedRoots((root_certificate("rsa"), root_certificate("ec")))
"""The two TEST roots: what the simulated reader and the tests trust. Never for real cards."""
