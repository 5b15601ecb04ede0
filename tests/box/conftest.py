"""Shared set-up for the kiosk box tests: a demo data directory made by the real command."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands import KIOSK, run_kiosk


def _under_home(path: Path) -> bool:
    return path.is_relative_to("/home") or path.is_relative_to("/root")


@pytest.fixture(scope="session")
def box_kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A ``kiosk`` program outside /home and /root, as on a box: it runs this checkout's kiosk.

    The installer rightly refuses a program under a home (the units hide homes), and a clone of
    this repository often lives in one: the tests install this stand-in instead.
    """
    folder = tmp_path_factory.mktemp("box-kiosk")
    if not _under_home(folder):
        yield _stand_in(folder)
        return
    # The temporary folders are in a home too ($TMPDIR): /tmp is outside every home.
    with tempfile.TemporaryDirectory(dir="/tmp") as elsewhere:
        yield _stand_in(Path(elsewhere))


def _stand_in(folder: Path) -> Path:
    program = folder / "venv/bin/kiosk"
    program.parent.mkdir(parents=True)
    program.write_text(f'#!/bin/sh\nexec "{KIOSK}" "$@"\n', encoding="utf-8")
    program.chmod(0o755)
    return program


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo centre made once per run (copied for each test that changes it)."""
    folder = tmp_path_factory.mktemp("demo")
    result = run_kiosk(folder, "demo-data", "--patients", "40")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo data directory, its config pointing at the copy."""
    folder = tmp_path / "data"
    shutil.copytree(demo_template, folder)
    config = folder / "kiosk.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(str(demo_template), str(folder)),
        encoding="utf-8",
    )
    config.chmod(0o600)
    return folder


@pytest.fixture
def encrypted_kiosk(tmp_path: Path) -> tuple[Path, Path]:
    """(data directory, credentials directory) of a kiosk whose database is encrypted with the
    key in the credential ``kiosk-db-key``, as ``kiosk install --encrypt-database`` sets it up;
    no database yet."""
    data, credentials = tmp_path / "data", tmp_path / "credentials"
    data.mkdir()
    credentials.mkdir()
    (credentials / "kiosk-db-key").write_text("ab" * 32 + "\n", encoding="ascii")
    config = data / "kiosk.toml"
    config.write_text(
        f'data_dir = "{data}"\n[privacy]\nlookup_key = "{"cd" * 32}"\n'
        '[database]\nkey_credential = "kiosk-db-key"\n',
        encoding="utf-8",
    )
    config.chmod(0o600)
    return data, credentials
