"""The configuration's schema: every key typed, an unknown (misspelt) key refused, each problem
one sentence naming the file and the key; ``kiosk config check`` checks the programme files too."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.config import ConfigError, from_mapping
from kiosk.core.config_schema import Language
from kiosk.core.i18n import LANGUAGES
from kiosk.programme.loader import SHIPPED
from tests.commands import run_kiosk

FILE = Path("/etc/rehab-kiosk/kiosk.toml")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"checkin": {"opens_befor_minutes": 30}},
            "[checkin] opens_befor_minutes: is not a setting",
        ),
        ({"site": "GENK"}, "site: is not a setting"),
        (
            {"checkin": {"opens_before_minutes": -5}},
            "[checkin] opens_before_minutes: must be a whole number from 0 to 1440",
        ),
        (
            {"checkin": {"closes_after_minutes": True}},
            "[checkin] closes_after_minutes: must be a whole number from 0 to 1440",
        ),
        ({"checkin": 3}, "checkin: must be a table"),
        ({"ui": {"language": "es"}}, "[ui] language: must be one of nl, fr, en, de"),
        (
            {"ui": {"result_timeout_seconds": 2}},
            "[ui] result_timeout_seconds: must be a whole number from 3 to 600",
        ),
        ({"devices": {"printer": "laser"}}, "[devices] printer: must be one of none, file, escpos"),
        ({"site_id": "genk"}, "site_id: must be 1 to 16 of A-Z 0-9 -"),
        ({"kiosk_number": 100}, "kiosk_number: must be a whole number from 1 to 99"),
        ({"centre_name": 7}, "centre_name: must be a string"),
        ({"backup": {"keep": 0}}, "[backup] keep: must be a whole number from 1 to 1000"),
        (
            {"privacy": {"lookup_key": "abcd"}},
            "[privacy] lookup_key: must be at least 32 bytes written in hex",
        ),
        (
            {"parking": {"keys": {"k1": "00" * 32}}},
            "[parking.keys] k1: a key id is 1 to 8 of A-Z 0-9",
        ),
        (
            {"parking": {"keys": {"K1": 5}}},
            "[parking.keys] K1: must be at least 32 bytes written in hex",
        ),
        (
            {"parking": {"signing_key": "K2", "keys": {"K1": "00" * 32}}},
            "[parking] signing_key: names no key in [parking.keys]",
        ),
        ({"reception": {"pin_hash": "1234"}}, "[reception] pin_hash: "),
    ],
)
def test_a_bad_key_is_one_sentence_naming_the_file_and_the_key(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(raw, FILE)
    assert str(caught.value).startswith(f"{FILE}: {message}")
    assert "\n" not in str(caught.value)


def test_the_defaults_and_a_full_table() -> None:
    settings = from_mapping(
        {"checkin": {"opens_before_minutes": 30}, "parking": {"keys": {"K1": "01" * 32}}}, FILE
    )
    assert (settings.checkin.opens_before_minutes, settings.checkin.closes_after_minutes) == (
        30,
        20,
    )
    assert settings.parking.signing_key == "K1" and settings.parking.keys["K1"] == b"\x01" * 32
    assert (settings.language, settings.reader, settings.backup_keep) == ("nl", "simulated", 14)


def test_the_schema_knows_the_languages_of_the_catalogues() -> None:
    assert typing.get_args(Language) == LANGUAGES


def test_config_check_refuses_a_misspelt_key(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[checkin]\nopens_befor_minutes = 30\n", encoding="utf-8")
    done = run_kiosk(tmp_path, "config", "check")
    assert done.returncode == 2
    assert done.stderr == (
        f"kiosk: {config}: [checkin] opens_befor_minutes: is not a setting (misspelt?)\n"
    )


def test_config_check_loads_the_programme_files(tmp_path: Path) -> None:
    programmes = tmp_path / "programmes"
    programmes.mkdir()
    config = tmp_path / "kiosk.toml"
    key = f'[privacy]\nlookup_key = "{"ab" * 32}"\n'
    config.write_text(f'programmes_dir = "{programmes}"\n{key}', encoding="utf-8")
    config.chmod(0o600)
    neck = (SHIPPED / "back-and-neck.toml").read_text(encoding="utf-8")
    good = programmes / "nek-kort.toml"
    good.write_text(neck.replace('code = "back-and-neck"', 'code = "nek-kort"'), "utf-8")
    done = run_kiosk(tmp_path, "config", "check")
    assert (done.returncode, done.stdout) == (0, f"configuration ok: {config}\n")

    (programmes / "bad.toml").write_text("[programme]\ncode = 'x'\n", encoding="utf-8")
    done = run_kiosk(tmp_path, "config", "check")
    assert done.returncode == 2
    assert done.stderr.startswith(f"kiosk: {programmes / 'bad.toml'}: ")
    assert done.stderr.count("\n") == 1 and done.stdout == ""

    config.write_text(f'programmes_dir = "{tmp_path / "none"}"\n{key}', encoding="utf-8")
    done = run_kiosk(tmp_path, "config", "check")
    assert done.returncode == 2
    assert "the programmes directory does not exist" in done.stderr


def test_the_starter_files_the_kiosk_writes_hold_only_known_keys(tmp_path: Path) -> None:
    import tomllib

    from kiosk.box.install import STARTER_CONFIG
    from kiosk.core.config import demo_config_text

    for text in (STARTER_CONFIG, demo_config_text(tmp_path)):
        from_mapping(tomllib.loads(text), tmp_path / "kiosk.toml")
