"""`kiosk doctor`'s reader check against a real pcscd with the virtual reader."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from devices.eid.rrn_test_key import TEST_ROOTS
from kiosk.box.doctor import check_reader
from kiosk.core.config import Settings
from tests.eid.conftest import VPCD_READER, Pcscd

pytestmark = pytest.mark.pcsc


def test_a_pcsc_kiosk_without_trusted_roots_is_warned(pcscd: Pcscd, tmp_path: Path) -> None:
    settings = Settings(source=None, data_dir=tmp_path, reader="pcsc")
    check = check_reader(settings)
    assert check.status == 1
    assert "trusted_roots" in check.detail and VPCD_READER in check.detail

    roots = tmp_path / "roots.pem"
    roots.write_bytes(TEST_ROOTS.to_pem())
    check = check_reader(replace(settings, trusted_roots=roots))
    assert check.status == 0
