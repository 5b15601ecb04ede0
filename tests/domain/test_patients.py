"""The name rule: what a public screen, a printed ticket or a card's label may show of a name."""

from __future__ import annotations

import pytest

from kiosk.domain.patients import public_name


@pytest.mark.parametrize(
    ("first_names", "last_name", "shown"),
    [
        ("Ann-Sophie Marie", "D'Hondt", "Ann-Sophie D."),
        ("Zoë", "Van de Velde", "Zoë V."),
        ("  Ömer ", " Çelik", "Ömer Ç."),
        ("Luc", "", "Luc"),
        ("", "Peeters", "P."),
        (" ", " ", ""),
    ],
)
def test_first_name_and_initial(first_names: str, last_name: str, shown: str) -> None:
    assert public_name(first_names, last_name) == shown
