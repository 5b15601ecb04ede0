"""Shared set-up for the kiosk box tests: a demo data directory made by the real command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.commands import run_kiosk


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
