"""Fuzzing the parser and the APDU layer: every case ends in a CardReadError, nothing else.

About 20 000 cases in the normal run; ``--fuzz-examples 200000`` gives each test that many.
"""

from __future__ import annotations

import contextlib
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.eid import belpic, tlv
from devices.eid.card_os import BelpicCardOS, CardImage
from devices.eid.errors import CardReadError
from devices.eid.identity import parse_address_file, parse_identity_file
from devices.eid.rrn_test_key import TEST_ROOTS
from devices.eid.simulated import MemoryTransport
from devices.eid.virtual_card import build_image
from tests import run_options
from tests.eid.conftest import make_card

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
def _image() -> CardImage:
    return build_image(make_card(applet="1.7"))


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
